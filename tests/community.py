"""Helpers for the community tests: a reader is a test client with its own session."""

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

CODE_LLAMA = "code-llama-4"
MISTRAL = "mistral-3-small-22b"
COMPARE = "/compare/code-llama-4-vs-mistral-3-small-22b"


def reader(**kwargs) -> Client:
    return Client(**kwargs)


def counts(slug: str) -> dict:
    from shiporskip.catalog.models import Tool

    return Tool.objects.with_community().get(slug=slug).community.as_dict()


def csrf_from(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def statements_run(during) -> tuple[dict[str, int], list[str]]:
    """PostgreSQL: what `during()` ran on this connection, as {prepared statement: times run},
    counted by PostgreSQL itself (a vote's statements are prepared, statements.fetch_all), and
    the SQL it sent through Django's cursor."""

    def prepared() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
            return dict(cursor.fetchall())

    before = prepared()
    with CaptureQueriesContext(connection) as queries:
        during()
    ran = {sql: n - before.get(sql, 0) for sql, n in prepared().items() if n > before.get(sql, 0)}
    return ran, [q["sql"] for q in queries]
