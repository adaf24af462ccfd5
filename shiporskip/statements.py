"""What plain SQL may rely on, on either database (the hot paths that skip the ORM)."""

import functools
import re

from django.db import connection

# A %s not after a %: the placeholder Django writes (its SQLite backend rewrites it the same way).
FORMAT_QMARK = re.compile(r"(?<!%)%s")


def client_side_binding() -> bool:
    """Whether one execute() may hold several statements: on PostgreSQL unless the database's
    OPTIONS turn on psycopg's server-side binding, whose prepared statements take one. Such an
    execute() is one round trip, in one transaction when none is open."""
    options = connection.settings_dict.get("OPTIONS", {})
    return connection.vendor == "postgresql" and options.get("server_side_binding") is not True


def fetch(sql: str, params: list) -> list[tuple]:
    """Run one statement of a vote's or a bookmark's write and return the rows it gave (none: []).

    On SQLite it goes to the driver's own cursor, with Django's error classes: Django's cursor
    (its execute wrappers, its placeholder rewrite, its query log) cost 30 to 45 µs an execute
    on a 2-core machine, against 10 for the statement itself, and a vote sends three while it
    holds the write turn every other writer waits for (bench/votes.py). Such statements are
    not seen by `connection.queries` or `execute_wrapper`. Elsewhere: Django's cursor.
    """
    if connection.vendor != "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    if connection.connection is None:
        connection.ensure_connection()
    with connection.wrap_database_errors:  # sqlite3's errors as Django's, as its cursor raises them
        return connection.connection.execute(qmark(sql), params).fetchall()


@functools.lru_cache(maxsize=256)
def qmark(sql: str) -> str:
    """A statement's %s placeholders as SQLite's ?, as Django's SQLite cursor rewrites them."""
    return FORMAT_QMARK.sub("?", sql).replace("%%", "%")
