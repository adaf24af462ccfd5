"""Search engines and sharing: sitemap, robots.txt, canonical links, Open Graph, cards, JSON-LD.

Addresses are built on SITE_URL, so every test runs with a public-looking SITE_URL and asks
by another Host: a link built on the request would show at once.
"""

import datetime
import io
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from html.parser import HTMLParser
from itertools import combinations
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from PIL import Image

from shiporskip.catalog.loading import load_catalog
from shiporskip.catalog.models import Tool
from shiporskip.panel.models import PanelRun, Review
from shiporskip.panel.running import review_tool
from shiporskip.sharing import cards, sitemaps
from tests.conftest import tool_entry

SITE = "https://verdicts.example.com"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
SCHEMA = json.loads((Path(__file__).parent / "data" / "schemaorg_subset.json").read_text())


@pytest.fixture(autouse=True)
def public_site(settings):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["*"]
    cache.clear()


@pytest.fixture
def client():
    return Client(HTTP_HOST="internal.invalid:8080")  # not the public name: links must not use it


def path_of(url: str) -> str:
    assert url.startswith(SITE + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Head(HTMLParser):
    """The tags a crawler or a link preview reads: canonical links, meta tags, JSON-LD."""

    def __init__(self, html: str):
        super().__init__()
        self.canonical, self.meta, self.jsonld = [], defaultdict(list), []
        self._in_jsonld = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "canonical":
            self.canonical.append(a["href"])
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]].append(a.get("content"))
        if tag == "script" and a.get("type") == "application/ld+json":
            self._in_jsonld = True
            self.jsonld.append("")

    def handle_data(self, data):
        if self._in_jsonld:
            self.jsonld[-1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_jsonld = False

    def one(self, key: str) -> str:
        assert len(self.meta[key]) == 1, (key, self.meta[key])
        return self.meta[key][0]


def head_of(client, url: str) -> Head:
    response = client.get(url)
    assert response.status_code == 200, url
    return Head(response.content.decode())


# The sitemap --------------------------------------------------------------------------------


def sitemap_urls(client) -> tuple[list[str], dict[str, str | None]]:
    """Every section page named by the index, and every address (with its lastmod) in them."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    index = ET.fromstring(response.content)  # noqa: S314 - our own sitemap, not untrusted input
    sections = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]
    urls = {}
    for section in sections:
        page = client.get(path_of(section))
        assert page.status_code == 200, section
        for url in ET.fromstring(page.content).findall("s:url", NS):  # noqa: S314 - ours too
            loc, lastmod = url.find("s:loc", NS).text, url.find("s:lastmod", NS)
            assert loc not in urls, f"{loc} listed twice"
            urls[loc] = lastmod.text if lastmod is not None else None
    return sections, urls


def same_category_pairs() -> set[str]:
    by_category = defaultdict(list)
    for tool in Tool.objects.reviewed():
        by_category[tool.category_id].append(tool.slug)
    return {
        f"/compare/{a}-vs-{b}" for slugs in by_category.values() for a, b in combinations(sorted(slugs), 2)
    }


def test_the_sitemap_lists_every_page_worth_indexing_and_each_answers(client, reviewed, monkeypatch):
    monkeypatch.setattr(sitemaps.ComparisonSitemap, "limit", 40)  # several pages of pairs
    sections, urls = sitemap_urls(client)
    pairs = same_category_pairs()
    assert sum("sitemap-compare.xml" in s for s in sections) == -(-len(pairs) // 40) > 1

    paths = {path_of(u) for u in urls}
    expected = {
        "/",
        "/tools",
        "/panel/",
        *(t.get_absolute_url() for t in Tool.objects.all()),
        "/categories/coding-assistants",
        "/panel/builder",
        "/panel/skeptic",
        *pairs,
    }
    assert expected <= paths
    assert {p for p in paths if p.startswith("/compare/")} == pairs  # same-category pairs only
    for url in urls:
        assert client.get(path_of(url)).status_code == 200, url

    # lastmod (Django's sitemap writes the day): the tool's current verdict; for a pair, the
    # later of its two.
    finished = {t.slug: t.current_run.finished_at for t in Tool.objects.select_related("current_run")}
    for url, lastmod in urls.items():
        path = path_of(url)
        if path.startswith("/tools/"):
            assert lastmod == day(finished[path.split("/")[2]]), url
        if path.startswith("/compare/"):
            a, b = path.removeprefix("/compare/").split("-vs-")
            assert lastmod == day(max(finished[a], finished[b])), url


def day(at: datetime.datetime) -> str:
    return timezone.localtime(at).date().isoformat()


def test_sitemap_requests_cost_a_bounded_number_of_queries(
    client, reviewed, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(sitemaps.ComparisonSitemap, "limit", 40)
    with django_assert_max_num_queries(12):
        client.get("/sitemap.xml")
    for section in sitemaps.SECTIONS:
        with django_assert_max_num_queries(4):
            assert client.get(f"/sitemap-{section}.xml?p=1").status_code == 200
    assert client.get("/sitemap-compare.xml?p=999").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_off_private_pages(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    for path in [
        "/admin/",
        "/accounts/",
        "/me",
        "/tools/*/vote",
        "/tools/*/bookmark",
        "/newsletter/subscribe",
    ]:
        assert f"Disallow: {path}" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    assert not any(line.startswith("Disallow: /tools/") and "card" in line for line in lines)


# Canonical links and Open Graph --------------------------------------------------------------

PAGES = [
    "/",
    "/tools",
    "/tools/code-llama-4",
    "/categories/open-weight-models",
    "/compare/code-llama-4-vs-mistral-3-small-22b",
    "/panel/",
    "/panel/builder",
    "/newsletter/",
    "/accounts/signin",
    "/bookmarks",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_names_its_absolute_canonical_address_and_share_tags(client, seed_pair, url):
    head = head_of(client, url + "?utm_source=x")
    assert head.canonical == [SITE + url]  # SITE_URL, never the Host asked by, and no query
    assert head.one("og:url") == SITE + url
    for key in [
        "og:title",
        "og:description",
        "og:type",
        "og:image",
        "og:image:alt",
        "twitter:title",
        "twitter:description",
        "twitter:image",
    ]:
        assert head.one(key).strip(), key
    assert head.one("twitter:card") == "summary_large_image"
    assert (head.one("og:image:width"), head.one("og:image:height")) == ("1200", "630")
    image = head.one("og:image")
    assert head.one("twitter:image") == image and path_of(image).split("?")[0].endswith("card.png")
    response = client.get(path_of(image))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_share_tags_say_what_each_page_shows(client, seed_pair):
    tool = head_of(client, "/tools/code-llama-4")
    assert tool.one("og:title") == "Code Llama 4: ship or skip?" and tool.one("og:type") == "article"
    assert "/tools/code-llama-4/card.png?v=" in tool.one("og:image")
    pair = head_of(client, "/compare/code-llama-4-vs-mistral-3-small-22b")
    assert pair.one("og:title").startswith("Code Llama 4 vs Mistral 3 Small (22B)")
    assert "/compare/code-llama-4-vs-mistral-3-small-22b/card.png?v=" in pair.one("og:image")
    for name, side in zip(
        ["Code Llama 4", "Mistral 3 Small (22B)"], cards.pair_card(_comparison()).sides, strict=True
    ):
        assert f"{name}: {side.label}, mean score {side.mean}/100" in pair.one("og:description")
    assert head_of(client, "/categories/open-weight-models").one("og:title") == (
        "Open-Weight Models: AI tools ranked by the panel"
    )
    assert head_of(client, "/panel/skeptic").one("og:title").startswith("Skeptic")


def _comparison():
    from shiporskip.compare.comparison import load

    return load("code-llama-4", "mistral-3-small-22b")


# Social cards --------------------------------------------------------------------------------


def card_of(client, page: str) -> str:
    return path_of(head_of(client, page).one("og:image"))


def test_the_card_is_a_1200x630_png_cached_for_good_and_rendered_once(client, seed_pair, monkeypatch):
    rendered = []
    render = cards.render
    monkeypatch.setattr(cards, "render", lambda card: rendered.append(card) or render(card))
    for page in ["/tools/code-llama-4", "/compare/code-llama-4-vs-mistral-3-small-22b", "/"]:
        url = card_of(client, page)
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(response.content))
        assert (image.format, image.size) == ("PNG", (1200, 630))
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"
        etag = response["ETag"]
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and again["ETag"] == etag
        assert client.get(url).content == response.content
    assert len(rendered) == 3  # one render per card: the bytes are cached by version


def test_a_new_verdict_gives_the_card_a_new_address(client, seed_pair):
    tool_card, pair_card = (
        card_of(client, "/tools/code-llama-4"),
        card_of(client, "/compare/code-llama-4-vs-mistral-3-small-22b"),
    )
    tool = Tool.objects.select_related("category").get(slug="code-llama-4")
    tool.facts = {
        **tool.facts,
        "open_weights": False,
        "self_hostable": False,
        "license_kind": "proprietary",
        "runtimes": [],
    }
    tool.save()
    review_tool(tool=tool, model="offline")
    new_tool_card = card_of(client, "/tools/code-llama-4")
    new_pair_card = card_of(client, "/compare/code-llama-4-vs-mistral-3-small-22b")
    assert new_tool_card != tool_card and new_pair_card != pair_card
    assert client.get(new_tool_card).status_code == 200
    # A link shared before the verdict changed is sent on to today's card.
    for old, new in [(tool_card, new_tool_card), (pair_card, new_pair_card)]:
        moved = client.get(old)
        assert moved.status_code == 302 and moved["Location"] == new
        assert "immutable" not in moved["Cache-Control"]


def test_card_addresses_refuse_unknown_tools_and_pairs(client, seed_pair):
    assert client.get("/tools/no-such-tool/card.png").status_code == 404
    assert client.get("/compare/code-llama-4-vs-nope/card.png").status_code == 404
    assert client.get("/compare/code-llama-4-vs-code-llama-4/card.png").status_code == 404
    moved = client.get("/compare/mistral-3-small-22b-vs-code-llama-4/card.png")
    assert moved.status_code == 301
    assert moved["Location"] == "/compare/code-llama-4-vs-mistral-3-small-22b/card.png"


def test_a_long_name_still_fits_the_card(seed_pair):
    long = cards.Side(
        name="An Extraordinarily Long Tool Name " * 4,
        byline="Acme · Developer tools " * 5,
        verdict="Split",
        label="Split · 2/4",
        mean=50,
        scores=tuple((f"Persona {i}", 50, "ship") for i in range(8)),
    )
    for card in [cards.Card((long,)), cards.Card((long, long))]:
        image = Image.open(io.BytesIO(cards.render(card)))
        assert image.size == (1200, 630)


# JSON-LD -------------------------------------------------------------------------------------

LITERALS = {
    "Text": lambda v: isinstance(v, str),
    "URL": lambda v: isinstance(v, str) and v.startswith(("https://", "http://")),
    "Number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Date": lambda v: isinstance(v, str) and bool(datetime.date.fromisoformat(v)),
    "DateTime": lambda v: isinstance(v, str) and bool(datetime.datetime.fromisoformat(v)),
    "Boolean": lambda v: isinstance(v, bool),
}
SUBTYPES = {"URL": "Text", "Integer": "Number"}


def schema_problems(node, where="$") -> list[str]:
    """Every property not defined by schema.org for its type, or holding a value of a type it
    does not take (schema.org's rangeIncludes), with where it is."""
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in schema_problems(item, f"{where}[{i}]")]
    kind = node.get("@type")
    if kind not in SCHEMA["types"]:
        return [f"{where}: type {kind!r} is not one we hold schema.org's definition of"]
    allowed = set(SCHEMA["types"][kind]["properties"])
    problems = []
    for key, value in node.items():
        if key.startswith("@"):
            continue
        if key not in allowed:
            problems.append(f"{where}.{key}: not a property of {kind}")
            continue
        ranges = set(SCHEMA["ranges"][key])
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            at = f"{where}.{key}[{i}]"
            if isinstance(item, dict):
                types = {item.get("@type"), *SCHEMA["types"].get(item.get("@type"), {}).get("supertypes", [])}
                if not types & ranges:
                    problems.append(f"{at}: a {item.get('@type')} where {key} takes {sorted(ranges)}")
                problems += schema_problems(item, at)
            elif not any(
                LITERALS[r](item)
                for r in ranges | {SUBTYPES.get(r) for r in ranges} - {None}
                if r in LITERALS
            ):
                problems.append(f"{at}: {item!r} is none of {sorted(ranges)}")
    return problems


def jsonld_of(client, slug: str) -> dict:
    blocks = head_of(client, f"/tools/{slug}").jsonld
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_the_checker_sees_what_schema_org_does_not_define():
    bad = {
        "@type": "SoftwareApplication",
        "name": "x",
        "rating": 3,
        "review": [{"@type": "Review", "reviewRating": {"@type": "Rating", "ratingValue": True}}],
        "aggregateRating": {"@type": "Offer", "price": 1},
        "offers": {"@type": "Gadget"},
    }
    problems = schema_problems(bad)
    assert any(".rating: not a property" in p for p in problems)
    assert any("ratingValue" in p for p in problems)
    assert any("a Offer where aggregateRating" in p for p in problems)
    assert any("Gadget" in p for p in problems)


def test_tool_json_ld_is_a_software_application_that_schema_org_defines(client, reviewed):
    for tool in Tool.objects.select_related("current_run"):
        data = jsonld_of(client, tool.slug)
        assert data["@context"] == "https://schema.org" and data["@type"] == "SoftwareApplication"
        assert schema_problems(data) == [], tool.slug
        assert data["name"] == tool.name and data["url"] == f"{SITE}/tools/{tool.slug}"
        scores = [r.score for r in tool.current_run.reviews.all() if r.score is not None]
        assert [r["reviewRating"]["ratingValue"] for r in data["review"]] == scores
        rating = data["aggregateRating"]
        assert rating["reviewCount"] == len(scores)
        assert rating["ratingValue"] == round(sum(scores) / len(scores), 1)
        for review in data["review"]:
            assert review["author"]["name"].endswith("(Ship or Skip panel)")
            assert 0 <= review["reviewRating"]["ratingValue"] <= 100
    cursor = jsonld_of(client, "cursor")
    assert {"price": 20, "priceCurrency": "USD"}.items() <= cursor["offers"][1].items()
    assert "macOS" in cursor["operatingSystem"]


def test_abstentions_and_unreviewed_tools_carry_no_rating(client, seed_pair):
    review = Review.objects.current().filter(tool__slug="code-llama-4").first()
    Review.objects.filter(pk=review.pk).update(verdict="none", score=None)
    data = jsonld_of(client, "code-llama-4")
    assert review.persona.name not in json.dumps(data["review"])
    assert data["aggregateRating"]["reviewCount"] == len(data["review"]) == 3
    tool = Tool.objects.get(slug="mistral-3-small-22b")
    Tool.objects.filter(pk=tool.pk).update(current_run=None)
    PanelRun.objects.filter(tool=tool).delete()
    data = jsonld_of(client, "mistral-3-small-22b")
    assert "review" not in data and "aggregateRating" not in data and schema_problems(data) == []


BREAKOUT = "Evil </script><script>alert(1)</script><!-- & </SCRIPT > Tool"


def test_a_tool_name_cannot_break_out_of_the_json_ld_block(client, seed_pair):
    load_catalog({"tools": [tool_entry(BREAKOUT, best_for=BREAKOUT, description=BREAKOUT)]})
    tool = Tool.objects.select_related("category").get(name=BREAKOUT)
    review_tool(tool=tool, model="offline")
    html = client.get(f"/tools/{tool.slug}").content.decode()
    assert "<script>alert" not in html and "</SCRIPT >" not in html
    head = Head(html)
    [block] = head.jsonld
    data = json.loads(block)  # the whole object: nothing ended the block early
    assert data["name"] == data["description"] == BREAKOUT
    assert head.one("og:title") == f"{BREAKOUT}: ship or skip?"
