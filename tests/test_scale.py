"""Every public page costs the same queries with the bundled catalog (58 tools) and with 10,000 reviewed.

The 10,000-tool catalog is built by tests/scale.py (bulk copies of the reviewed bundled tools,
a few seconds). Pages are rendered cold: the page cache off and the process cache cleared
before each, so what is counted is a first visit's work. The same test runs on SQLite and on
PostgreSQL (DATABASE_URL).
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shiporskip.catalog.list_views import RANKING_PER_PAGE
from shiporskip.catalog.models import PICKER_TOOLS, Tool
from shiporskip.panel.views import REVIEWS_PER_PAGE
from tests.scale import bundled_reviewed, grow_reviewed

TOOL, RIVAL = "code-llama-4", "mistral-3-small-22b"
BIG = 10_000

# Every public page (and its heavier variants), by name: address and the status it answers.
PAGES = {
    "home": ("/", 200),
    "all tools": ("/tools", 200),
    "all tools, filtered": ("/tools?verdict=ship&open_weights=yes&sort=community", 200),
    "all tools, by price, page 3": ("/tools?sort=price&page=3", 200),
    "category": ("/categories/developer-tools", 200),
    "category, newest": ("/categories/developer-tools?sort=newest", 200),
    "tool": (f"/tools/{TOOL}", 200),
    "alternatives": (f"/tools/{TOOL}/alternatives", 200),
    "comparison": (f"/compare/{TOOL}-vs-{RIVAL}", 200),
    "comparison, unknown tool": (f"/compare/{TOOL}-vs-no-such-tool", 404),
    "the panel": ("/panel/", 200),
    "persona": ("/panel/founder", 200),
    "persona, one category": ("/panel/founder?category=developer-tools", 200),
    "search": ("/search?q=code", 200),
    "search suggestions": ("/search/suggestions?q=lla", 200),
    "sitemap index": ("/sitemap.xml", 200),
    "sitemap pages": ("/sitemap-pages.xml", 200),
    "sitemap tools": ("/sitemap-tools.xml", 200),
    "sitemap categories": ("/sitemap-categories.xml", 200),
    "sitemap panel": ("/sitemap-panel.xml", 200),
    "sitemap comparisons": ("/sitemap-compare.xml", 200),
    "feed": ("/feeds/verdicts.atom", 200),
    "category feed": ("/categories/developer-tools/verdicts.atom", 200),
    "badge": (f"/tools/{TOOL}/badge.svg", 200),
    "badge, score": (f"/tools/{TOOL}/badge.svg?style=score&theme=dark", 200),
    "newsletter archive": ("/newsletter/", 200),
    "404": ("/no-such-page", 404),
}


def cold_queries(client, url: str, status: int) -> int:
    """The queries one first visit makes: no page cache, nothing cached in the process."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return len(ctx.captured_queries)


def measure(client) -> dict[str, int]:
    return {name: cold_queries(client, url, status) for name, (url, status) in PAGES.items()}


@pytest.fixture
def cold(settings):
    settings.PAGE_CACHE_SECONDS = 0  # the page cache would answer from memory: measure the view
    settings.DEBUG = False  # the styled 404 page, as served


def test_every_public_page_costs_the_same_queries_bundled_and_at_10000_tools(db, client, cold):
    bundled_reviewed()
    small_n = Tool.objects.count()
    small = measure(client)
    grow_reviewed(BIG)
    assert Tool.objects.reviewed().count() == BIG
    big = measure(client)
    moved = {name: (small[name], big[name]) for name in PAGES if small[name] != big[name]}
    assert not moved, f"queries at {small_n} -> {BIG} tools: {moved}"
    assert all(0 < n <= 12 for n in big.values()), big
    # The long lists are cut into pages (built once: the catalog takes seconds to grow).
    persona = client.get("/panel/founder").content.decode()
    assert persona.count('<li class="verdict-line">') == REVIEWS_PER_PAGE
    assert "/panel/founder?page=2" in persona
    category = client.get("/categories/developer-tools").content.decode()
    assert category.count('class="tool-row"') == RANKING_PER_PAGE
    # The compare picker's two lists are bounded; its search box finds any tool.
    assert client.get("/").content.decode().count("<option value=") == 2 * (PICKER_TOOLS + 1)
