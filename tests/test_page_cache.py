"""The page cache (pages.public): a public page is kept until what it shows changes, and not
one request longer. Every check compares what a reader is served with what the page renders
to right now with the cache off, so a stale byte anywhere fails it.

Run with REDIS_URL set, the same tests cover the Redis cache.
"""

import gzip
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from shiporskip.catalog.models import Tool
from shiporskip.pagecache.models import SITE, tokens
from shiporskip.panel.models import PanelRun, Persona
from shiporskip.panel.running import review_tool
from tests.community import CODE_LLAMA, COMPARE, MISTRAL, reader

CATEGORY = "/categories/developer-tools"


def pages() -> list[str]:
    """Every public page the two seed tools appear on."""
    personas = [f"/panel/{key}" for key in Persona.objects.active().values_list("key", flat=True)]
    return [
        "/",
        "/tools",
        "/tools?sort=community",
        CATEGORY,
        COMPARE,
        f"/tools/{CODE_LLAMA}",
        f"/tools/{MISTRAL}",
        f"/tools/{CODE_LLAMA}/alternatives",
        f"/tools/{MISTRAL}/alternatives",
        "/panel/",
        *personas,
        "/feeds/verdicts.atom",
        "/categories/developer-tools/verdicts.atom",
        f"/tools/{CODE_LLAMA}/badge.svg",
        f"/tools/{MISTRAL}/badge.svg",
        "/sitemap.xml",
        "/sitemap-tools.xml",
        "/sitemap-compare.xml",
        "/robots.txt",
        "/newsletter/",
    ]


def served(url: str, **headers):
    response = reader().get(url, **headers)
    assert response.status_code == 200, url
    return response


def fresh(url: str) -> bytes:
    """The page as it renders now, with no page cache."""
    with override_settings(PAGE_CACHE_SECONDS=0):
        return served(url).content


def warm(urls, django_assert_max_num_queries) -> dict[str, bytes]:
    """Serve each page twice; the second must come from the cache (one query: the tokens)."""
    seen = {url: served(url).content for url in urls}
    for url in urls:
        with django_assert_max_num_queries(1):
            assert served(url).content == seen[url], url
    return seen


def assert_current(urls, before: dict[str, bytes]) -> set[str]:
    """Every page is served as it renders now; return the pages that changed."""
    after = {url: served(url).content for url in urls}
    for url in urls:
        assert after[url] == fresh(url), f"{url} is served stale"
    return {url for url in urls if after[url] != before[url]}


def test_a_vote_shows_on_the_next_request_of_every_page_with_its_tally(
    seed_pair, django_assert_max_num_queries
):
    urls = pages()
    before = warm(urls, django_assert_max_num_queries)
    voter = reader()
    assert voter.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}).status_code == 303
    changed = assert_current(urls, before)
    assert changed >= {
        "/",
        "/tools",
        "/tools?sort=community",
        CATEGORY,
        COMPARE,
        f"/tools/{CODE_LLAMA}",
        f"/tools/{MISTRAL}/alternatives",
    }
    label = Tool.objects.with_community().get(slug=CODE_LLAMA).community.label
    assert label == "Ship 100% · 1 vote"
    assert label in served(f"/tools/{CODE_LLAMA}").content.decode()
    # Taking it back is a write too: the pages go back to what they were.
    voted = {url: served(url).content for url in urls}
    voter.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "none"})
    assert assert_current(urls, voted) >= {COMPARE, f"/tools/{CODE_LLAMA}"}
    assert all(served(url).content == before[url] for url in urls)


def test_a_vote_keeps_the_pages_that_do_not_show_that_tally(seed_pair, django_assert_max_num_queries):
    kept = [f"/tools/{MISTRAL}", f"/tools/{CODE_LLAMA}/badge.svg", "/feeds/verdicts.atom"]
    warm(kept, django_assert_max_num_queries)
    reader().post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "skip"})
    for url in kept:  # Mistral's page shows its own tally, and Code Llama's panel verdict only
        with django_assert_max_num_queries(1):
            served(url)


def flip_bars(slug: str) -> str:
    """Move every persona's bar so the tool's next run gives the other verdict; return the old label."""
    tool = Tool.objects.with_panel().get(slug=slug)
    Persona.objects.update(ship_threshold=100 if tool.panel.verdict.lower() == "ship" else 0)
    return tool.panel.label


# The pages that show Code Llama's name or panel verdict.
SHOW_CODE_LLAMAS_PANEL = {
    "/",
    "/tools",
    CATEGORY,
    COMPARE,
    f"/tools/{CODE_LLAMA}",
    f"/tools/{MISTRAL}",
    f"/tools/{MISTRAL}/alternatives",
    "/panel/builder",
    f"/tools/{CODE_LLAMA}/badge.svg",
    "/feeds/verdicts.atom",
}


def test_a_verdict_shows_on_the_next_request_of_every_page(seed_pair, django_assert_max_num_queries):
    old = flip_bars(CODE_LLAMA)
    urls = pages()
    before = warm(urls, django_assert_max_num_queries)
    review_tool(tool=Tool.objects.get(slug=CODE_LLAMA), model="offline", force=True)
    new = Tool.objects.with_panel().get(slug=CODE_LLAMA).panel.label
    assert new != old
    changed = assert_current(urls, before)
    assert changed >= SHOW_CODE_LLAMAS_PANEL | {"/categories/developer-tools/verdicts.atom"}
    assert new in served(COMPARE).content.decode()


def test_a_catalog_edit_shows_on_the_next_request_of_every_page(seed_pair, django_assert_max_num_queries):
    urls = pages()
    before = warm(urls, django_assert_max_num_queries)
    tool = Tool.objects.get(slug=CODE_LLAMA)
    tool.name = "Code Llama 4 Renamed"
    tool.save()  # as the admin saves it
    changed = assert_current(urls, before)
    assert changed >= SHOW_CODE_LLAMAS_PANEL
    assert "Code Llama 4 Renamed" in served(COMPARE).content.decode()


def test_cached_pages_are_the_same_bytes_for_every_reader_and_set_no_cookie(seed_pair):
    alice = reader()
    alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
    alice.post(f"/tools/{CODE_LLAMA}/bookmark", {"bookmarked": "1"})
    for url in pages():
        for encoding in ({}, {"HTTP_ACCEPT_ENCODING": "gzip"}):
            mine, theirs = alice.get(url, **encoding), reader().get(url, **encoding)
            again = alice.get(url, **encoding)
            assert mine.content == theirs.content == again.content, url
            for response in (mine, theirs, again):
                assert not response.cookies and "Cookie" not in response.get("Vary", ""), url
                assert "public" in response["Cache-Control"], url


def test_a_conditional_get_is_answered_304_until_the_page_changes(seed_pair):
    url = f"/tools/{CODE_LLAMA}"
    first = served(url)
    etag, modified = first["ETag"], first["Last-Modified"]
    again = reader().get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and not again.content and again["ETag"] == etag
    assert "public" in again["Cache-Control"]
    assert reader().get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    reader().post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
    changed = reader().get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    # The gzip variant's ETag is weak (gzip changes the bytes, not the page): it validates too.
    zipped = served(url, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["ETag"].startswith('W/"')
    revalidated = reader().get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped["ETag"])
    assert revalidated.status_code == 304


def test_public_pages_are_compressed_and_per_reader_answers_are_not(seed_pair):
    page = served(COMPARE, HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip" and "Accept-Encoding" in page["Vary"]
    assert gzip.decompress(page.content) == served(COMPARE).content
    assert "Content-Encoding" not in served(COMPARE)  # a reader that did not ask
    # /me holds the reader's CSRF token: compressing it next to reflected input is BREACH.
    me = reader().get(f"/me?tools={CODE_LLAMA}", HTTP_ACCEPT_ENCODING="gzip")
    assert me.status_code == 200 and "Content-Encoding" not in me


def test_an_open_run_page_is_never_kept(seed_pair):
    from huey.contrib.djhuey import HUEY

    from shiporskip.panel.tasks import queue_panel_run

    url = f"/tools/{CODE_LLAMA}"
    served(url)
    immediate, HUEY.immediate = HUEY.immediate, False  # the run stays queued: no worker here
    try:
        queue_panel_run(tool=Tool.objects.get(slug=CODE_LLAMA))
    finally:
        HUEY.immediate = immediate
    open_page = served(url)
    assert "no-cache" in open_page["Cache-Control"]
    assert "refreshes until it finishes" in open_page.content.decode()
    assert "ETag" not in open_page and served(url).content == fresh(url)


def test_static_files_are_hashed_compressed_and_immutable(seed_pair):
    html = served("/").content.decode()
    css = re.search(r'href="(/static/shiporskip/site\.[0-9a-f]{12}\.css)"', html)
    assert css, "the stylesheet's address carries its hash"
    response = reader().get(css.group(1), HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1)) >= 365 * 24 * 3600
    assert response["Content-Encoding"] == "gzip"  # whitenoise's copy, compressed once
    body = b"".join(response.streaming_content)
    assert b"--accent" in gzip.decompress(body)


@pytest.mark.parametrize("url", ["/tools?sort=nonsense", "/tools/no-such-tool", "/compare/a-vs-b"])
def test_errors_are_not_kept(seed_pair, url):
    first = reader().get(url)
    assert first.status_code in {400, 404} and "ETag" not in first


def site_token() -> int:
    return tokens([SITE])[0]


def site_bumps() -> int:
    """How many times this transaction wrote a token row (PostgreSQL's own count)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables "
            "WHERE relname = 'pagecache_generation'"
        )
        return cursor.fetchone()[0]


def test_a_write_that_changes_no_row_or_only_a_heartbeat_keeps_every_page(seed_pair):
    before = site_token()
    assert Tool.objects.filter(slug="no-such-tool").update(name="Nobody") == 0
    assert Tool.objects.filter(slug="no-such-tool").delete()[0] == 0
    PanelRun.objects.filter(tool__slug=CODE_LLAMA).update(heartbeat_at=timezone.now())
    assert site_token() == before
    PanelRun.objects.filter(tool__slug=CODE_LLAMA).update(status="failed")  # a status shows
    assert site_token() != before


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_bulk_write_bumps_the_site_once_per_statement_on_postgresql(catalog):
    """Each update of one row in one transaction leaves a version the next must step over: a
    bump per row made a bulk write quadratic (10,000 tools grew in 154 s, 27 s with this)."""
    before, bumps = site_token(), site_bumps()
    assert Tool.objects.update(best_for="Everything") > 20
    assert site_token() != before and site_bumps() == bumps + 1
    before, bumps = site_token(), site_bumps()
    deleted, by_model = Tool.objects.all().delete()
    assert site_token() != before
    # The tools and what hangs on them, a statement per table: a bump per statement.
    assert deleted > 20 and site_bumps() - bumps <= len(by_model) < deleted
