"""A reader gets everywhere from the home page by links alone, as a crawler would."""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.conf import settings

from shiporskip.catalog.models import Category, Tool

# Pages a link may lead to that a reader need not crawl through: private or per-reader pages,
# the admin, and the endless combinations of list filters (each filter is tested on its own).
SKIP = ("/admin/", "/accounts/", "/api/", "/static/", "/me", "/bookmarks", "/newsletter/subscribe")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag in {"a", "link"} and href:
            self.found.append(href)


def internal(href: str) -> str | None:
    """The site-relative path of a link, or None for a link off the site."""
    href = urldefrag(href).url
    site = urlsplit(settings.SITE_URL)
    parts = urlsplit(href)
    if parts.scheme and (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
        return None
    if not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client) -> dict[str, int]:
    """Breadth-first over every link from the home page; comparison pages are reached, not read."""
    seen: dict[str, int] = {}
    queue = deque(["/"])
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        path = url.split("?", 1)[0]
        if url.startswith(SKIP) or ("?" in url and "page=" not in url):
            seen[url] = 0  # reachable; not followed
            continue
        if path.startswith("/compare/") and path.count("-vs-") == 1 and not path.endswith(".png"):
            seen[url] = 0
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            parser = Links()
            parser.feed(response.content.decode())
            queue.extend(link for href in parser.found if (link := internal(href)) and link not in seen)
    return seen


@pytest.mark.django_db
def test_every_page_a_reader_needs_is_reachable_by_links_from_the_home_page(client, reviewed):
    seen = crawl(client)
    broken = {url: status for url, status in seen.items() if status not in {0, 200}}
    assert broken == {}
    reached = set(seen)
    tools = list(Tool.objects.values_list("slug", flat=True))
    assert {f"/tools/{slug}" for slug in tools} <= reached, "every tool page"
    assert {f"/tools/{slug}/alternatives" for slug in tools} <= reached, "every alternatives page"
    assert {f"/categories/{slug}" for slug in Category.objects.values_list("slug", flat=True)} <= reached
    assert "/tools" in reached and "/newsletter/" in reached and "/feeds/verdicts.atom" in reached
    comparisons = {url for url in reached if url.startswith("/compare/") and "-vs-" in url}
    # Each tool's comparisons with its rivals are one link away from its alternatives page.
    for slug in tools:
        assert any(slug in url for url in comparisons), f"no comparison reached for {slug}"
    for url in sorted(comparisons)[::25]:  # a sample: each must answer, not redirect
        assert client.get(url).status_code == 200, url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 360])
def test_a_shared_comparison_unfurls_and_its_feed_is_discoverable(seed_pair, live_server, browser, width):
    """What a chat app or a feed reader reads off the page, read in chromium."""
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(live_server.url + "/compare/code-llama-4-vs-mistral-3-small-22b")
    meta = {
        name: page.locator(f'meta[property="{name}"], meta[name="{name}"]').first.get_attribute("content")
        for name in ("og:title", "og:image", "og:url", "twitter:card")
    }
    assert meta["og:title"].startswith("Code Llama 4 vs Mistral 3 Small (22B)")
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:url"] == settings.SITE_URL + "/compare/code-llama-4-vs-mistral-3-small-22b"
    assert meta["og:image"].startswith(settings.SITE_URL + "/compare/")
    feed = page.locator('link[rel="alternate"][type="application/atom+xml"]').first.get_attribute("href")
    assert internal(feed) == "/feeds/verdicts.atom"
    page.goto(live_server.url + internal(meta["og:image"]))
    assert page.evaluate("[document.images[0].naturalWidth, document.images[0].naturalHeight]") == [1200, 630]
