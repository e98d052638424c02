"""Storage tests run on SQLite and on PostgreSQL."""

from tests.helpers.backends import database_url  # noqa: F401
