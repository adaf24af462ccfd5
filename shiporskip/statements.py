"""What plain SQL may rely on, on either database (the hot paths that skip the ORM)."""

import contextlib
import functools

from django.db import connection
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX


def client_side_binding(db=connection) -> bool:
    """Whether one execute() may hold several statements: on PostgreSQL unless the database's
    OPTIONS turn on psycopg's server-side binding, whose prepared statements take one. Such an
    execute() is one round trip, in one transaction when none is open."""
    options = db.settings_dict.get("OPTIONS", {})
    return db.vendor == "postgresql" and options.get("server_side_binding") is not True


def allow_preparing(sender, connection, **kwargs) -> None:
    """On a new PostgreSQL connection (the `connection_created` signal): let `prepared()` ask
    for prepared statements. Django turns preparing off (`prepare_threshold` None), which
    `prepare=True` obeys; its own cursors bind on the client and never prepare, so a threshold
    never reached changes nothing else."""
    if client_side_binding(connection):
        connection.connection.prepare_threshold = 2**31


def driver():
    """The driver's own connection under Django's (sqlite3's or psycopg's), connected first if
    need be."""
    connection.ensure_connection()
    return connection.connection


def fetch(sql: str, params: list) -> list[tuple]:
    """Run one statement of a vote's or a bookmark's write and return the rows it gave (none: [])."""
    return fetch_all([(sql, params)])[0]


def fetch_all(batch: list[tuple[str, list]]) -> list[list[tuple]]:
    """Run the statements of a vote's or a bookmark's write in order, and return each one's rows.

    - SQLite: on the driver's own cursor, with Django's error classes. The same read took 42 to
      63 µs through Django's cursor (its execute wrappers, its placeholder rewrite, its query
      log) and 9 to 14 µs on the driver's, on a 2-core machine; a vote sends three while it
      holds the write turn every other writer waits for (bench/votes.py).
    - PostgreSQL with client-side binding (Django's default): as prepared statements, all sent
      in one round trip (a pipeline: one implicit transaction), so that each is planned once
      per connection. Planning the vote's statement cost PostgreSQL twice what running it did
      (0.42 to 0.55 ms against 0.18 to 0.25, EXPLAIN ANALYZE). Poolers must pool by session
      (docs/DEPLOY.md), which keeps a connection's prepared statements.
    - Otherwise: Django's cursor, one execute each.

    The first two are not seen by `connection.queries` or `execute_wrapper`.
    """
    if connection.vendor == "sqlite":
        raw = driver()
        with connection.wrap_database_errors:  # sqlite3's errors as Django's, as its cursor raises them
            return [raw.execute(qmark(sql), params).fetchall() for sql, params in batch]
    if client_side_binding():
        return prepared(batch)
    results = []
    with connection.cursor() as cursor:
        for sql, params in batch:
            cursor.execute(sql, params)
            results.append(cursor.fetchall() if cursor.description else [])
    return results


def prepared(batch: list[tuple[str, list]]) -> list[list[tuple]]:
    """The statements as psycopg's prepared statements, in one pipeline (see fetch_all); one
    statement alone, without: a pipeline saves it no round trip, and its bookkeeping cost the
    client 84 to 100 µs of CPU a statement against 50 to 64 without (5,000 runs, 2-core machine)."""
    import psycopg  # noqa: PLC0415 - PostgreSQL only

    raw = driver()  # preparing allowed when it was made (allow_preparing)
    cursors = [psycopg.Cursor(raw) for _ in batch]  # binding on the server: the text is constant
    with connection.wrap_database_errors:
        with raw.pipeline() if len(batch) > 1 else contextlib.nullcontext():
            for cursor, (sql, params) in zip(cursors, batch, strict=True):
                cursor.execute(sql, params, prepare=True)
        return [cursor.fetchall() if cursor.description else [] for cursor in cursors]


@functools.lru_cache(maxsize=256)
def qmark(sql: str) -> str:
    """A statement's %s placeholders as SQLite's ?, as Django's SQLite cursor rewrites them."""
    return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
