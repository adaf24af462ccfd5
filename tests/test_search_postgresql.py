"""PostgreSQL's search candidates, one query bounded by the hits it can return, give exactly
what the plain query over every tool gave (kept here as the reference): the same tools, ranks,
similarities and order, with more full-text hits than are returned and with fewer."""

import pytest
from django.contrib.postgres import search as pg
from django.db import connection  # noqa: F401 - read by the skipif condition
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest

from shiporskip.catalog import search
from shiporskip.catalog.models import Tool
from tests.scale import grow_reviewed

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'")
QUERIES = [
    "code",
    "cursr",
    "mistral",
    "llama cpp",
    "lang chain",
    "agent",
    "olama",
    "a",
    "e",
    "gguf",
    "open source",
    "zzzq",
    "llm api",
    "copilot",
    "qwen",
    "free",
    "local",
    "anthropic",
    "s",
]


def reference(found: list[str]) -> list[tuple]:
    """The candidates as the query over every tool gave them (before the bounded one)."""
    document = RawSQL('"catalog_tool"."search_document"', [], output_field=pg.SearchVectorField())
    raw = " & ".join("'{}':*".format(search.prefix(t).replace("'", "''")) for t in found)
    tsquery = pg.SearchQuery(raw, search_type="raw", config="simple")
    spelled = " ".join(found)
    rows = (
        Tool.objects.annotate(
            document=document,
            rank=pg.SearchRank(document, tsquery),
            similarity=Greatest(
                pg.TrigramSimilarity("name", spelled),
                pg.TrigramWordSimilarity(spelled, "name"),
                pg.TrigramSimilarity("vendor", spelled),
                pg.TrigramWordSimilarity(spelled, "vendor"),
            ),
        )
        .filter(Q(document=tsquery) | Q(similarity__gte=search.SIMILAR))
        .order_by("-rank", "-similarity", "name")
        .values_list("pk", "name", "vendor", "category__name", "panel_mean", "rank", "similarity")[
            : search.CANDIDATES
        ]
    )
    return [(*row, row[5] > 0) for row in rows]


def candidates(found: list[str]) -> list[tuple]:
    return [
        (c.pk, c.name, c.vendor, c.category, c.score, c.rank, c.similarity, c.text_hit)
        for c in search._postgresql_candidates(found)
    ]


def test_the_bounded_candidates_are_the_reference(reviewed):
    grow_reviewed(600)  # "code", "a", "e" and "s" then have more full-text hits than are returned
    counts = {}
    for query in QUERIES:
        found = search.terms(query)
        want = reference(found)
        assert candidates(found) == want, query
        counts[query] = sum(hit for *_, hit in want)
    assert max(counts.values()) == search.CANDIDATES and min(counts.values()) < search.CANDIDATES
