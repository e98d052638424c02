"""A full-text search of the whole database: every table, every column, every row, read as text."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import MetaData, select

from bridge.storage import Database


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def find_anywhere(db: Database, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every needle found (case-insensitive) in any column of any table."""
    reflected = MetaData()
    reflected.reflect(db.engine)
    found: set[tuple[str, str, str]] = set()
    lowered = [n.lower() for n in needles]
    with db.read() as conn:
        for table in reflected.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    text = _text(value).lower()
                    found.update((table.name, str(column), n) for n in lowered if n in text)
    return sorted(found)
