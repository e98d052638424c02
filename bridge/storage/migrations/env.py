"""Alembic environment: always runs on a connection handed over by `Database.upgrade()`."""

from __future__ import annotations

from alembic import context

from bridge.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `bridge db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
