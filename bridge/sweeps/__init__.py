"""Sweeps of the stores' own APIs (spec §13): backfill (history, `source: 0`) and reconciliation (what the
webhooks missed). Both turn store states into events through `recorder`, under the webhooks' identities."""
