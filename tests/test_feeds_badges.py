"""Atom feeds of verdict events and the embeddable SVG badge (issue 11, feeds and badges)."""

import html
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from playwright.sync_api import expect

from shiporskip.catalog.loading import load_catalog
from shiporskip.catalog.models import Category, Tool
from shiporskip.panel.history import EVENTS_SHOWN, record_event
from shiporskip.panel.models import PanelRun, Persona, Review
from shiporskip.panel.running import review_tool
from tests.conftest import FACTS, tool_entry
from tests.security_corpora import TALLY, XSS, unescaped

ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"
FEED = "/feeds/verdicts.atom"
CATEGORIES = [
    {"slug": "open-weight-models", "name": "Open-Weight Models"},
    {"slug": "developer-tools", "name": "Developer Tools"},
]
SCORES = {"ship": 81, "skip": 30, "none": None}


def add_tools(*names, category="open-weight-models") -> list[Tool]:
    load_catalog({"categories": CATEGORIES, "tools": [tool_entry(n, category=category) for n in names]})
    return list(Tool.objects.filter(name__in=names).select_related("category").order_by("name"))


def verdict(tool, *verdicts, scores=None) -> PanelRun:
    """A finished panel run whose personas say `verdicts` in order, stored as running._store does."""
    personas = list(Persona.objects.active())
    now = timezone.now()
    run = PanelRun.objects.create(
        tool=tool,
        model="offline",
        status="done",
        started_at=now,
        finished_at=now,
        personas_total=len(personas),
        personas_done=len(personas),
    )
    scores = scores or [SCORES[v] for v in verdicts]
    Review.objects.bulk_create(
        Review(
            run=run,
            tool=tool,
            persona=p,
            verdict=v,
            score=s,
            threshold=60,
            model="offline",
            prompt_version="test",
            persona_version=p.version,
        )
        for p, v, s in zip(personas, verdicts, scores, strict=True)
    )
    record_event(run.pk)
    Tool.objects.filter(pk=tool.pk).update(current_run=run)
    return run


def parse(content: bytes) -> ET.Element:
    """Our own response, parsed to show it is well-formed XML (it raises if it is not)."""
    return ET.fromstring(content)  # noqa: S314 - the site's own output, not a stranger's


def fetch_feed(client, url=FEED):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = parse(response.content)
    assert root.tag == f"{ATOM}feed"
    return root, response


def entries(root) -> list[dict]:
    return [
        {
            "id": e.findtext(f"{ATOM}id"),
            "title": e.findtext(f"{ATOM}title"),
            "link": e.find(f"{ATOM}link").get("href"),
            "summary": e.findtext(f"{ATOM}summary"),
            "updated": e.findtext(f"{ATOM}updated"),
            "category": e.find(f"{ATOM}category").get("term"),
        }
        for e in root.findall(f"{ATOM}entry")
    ]


def local(url: str) -> str:
    assert url.startswith(settings.SITE_URL), url  # feeds are read away from the site: absolute
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# ---- feeds ----


def test_feeds_are_atom_and_every_link_in_them_answers_200(client, seed_pair):
    for url in (FEED, "/categories/developer-tools/verdicts.atom"):
        root, response = fetch_feed(client, url)
        assert "public" in response["Cache-Control"] and response.has_header("Last-Modified")
        assert root.find(f"{ATOM}link[@rel='self']").get("href") == settings.SITE_URL + url
        assert root.findtext(f"{ATOM}updated") and root.findtext(f"{ATOM}author/{ATOM}name")
        links = [link.get("href") for link in root.iter(f"{ATOM}link")]
        assert len(entries(root)) == 2 and len(links) == 4
        for link in links:
            assert client.get(local(link)).status_code == 200, link


def test_an_entry_when_a_verdict_comes_out_and_a_new_one_when_it_changes(client, personas):
    (tool,) = add_tools("Alpha")
    assert entries(fetch_feed(client)[0]) == []

    run = review_tool(tool=tool, model="offline")  # the real panel: its first verdict
    first = PanelRun.objects.get(pk=run.pk)
    label = Tool.objects.with_panel().get(pk=tool.pk).panel.label
    (entry,) = entries(fetch_feed(client)[0])
    assert entry["title"] == f"Alpha: {label}"
    assert entry["link"] == settings.SITE_URL + "/tools/alpha"
    assert entry["updated"] == first.finished_at.isoformat()
    assert "first verdict on Alpha" in entry["summary"]
    for review in first.reviews.select_related("persona"):
        assert f"{review.persona.name}: {review.score}/100, {review.verdict}" in entry["summary"]

    review_tool(tool=tool, model="offline", force=True)  # a re-review with the same tally is no news
    assert [e["id"] for e in entries(fetch_feed(client)[0])] == [entry["id"]]

    before = {r.persona.name: r.score for r in first.reviews.select_related("persona")}
    verdict(tool, "ship", "skip", "skip", "skip")
    newest, older = entries(fetch_feed(client)[0])
    assert older == entry  # the first event stays as it was: same id, title and time
    assert newest["id"] != entry["id"]
    assert newest["title"] == "Alpha: Skip · 1 ship / 3 skip (was Ship)"
    assert "verdict on Alpha changed" in newest["summary"]
    assert f"Builder: 81/100, ship (was {before['Builder']})" in newest["summary"]

    verdict(tool, "skip", "skip", "skip", "skip")  # same verdict word, the counts moved
    assert entries(fetch_feed(client)[0])[0]["title"] == "Alpha: Skip · 0 ship / 4 skip (was 1 ship / 3 skip)"
    verdict(tool, "none", "none", "none", "none")
    assert entries(fetch_feed(client)[0])[0]["title"] == (
        "Alpha: No verdict (every reviewer abstained) (was Skip)"
    )


def test_entry_ids_are_stable_across_requests_and_unique(client, personas):
    alpha, beta = add_tools("Alpha", "Beta")
    for tool in (alpha, beta, alpha, beta):
        verdict(tool, "ship", "ship", "ship", "skip")
        verdict(tool, "skip", "skip", "ship", "skip")
    once = [e["id"] for e in entries(fetch_feed(client)[0])]
    again = [e["id"] for e in entries(fetch_feed(client)[0])]
    assert once == again and len(set(once)) == len(once) == 8
    assert all(i.startswith("tag:127.0.0.1,") for i in once)


def test_a_category_feed_holds_only_its_category(client, personas):
    models = add_tools("Alpha", "Beta")
    tools = add_tools("Gamma", category="developer-tools")
    for tool in models + tools:
        verdict(tool, "ship", "ship", "ship", "skip")
    root, _ = fetch_feed(client, "/categories/developer-tools/verdicts.atom")
    assert root.findtext(f"{ATOM}title") == "Ship or Skip: Developer Tools verdicts"
    assert [(e["title"], e["category"]) for e in entries(root)] == [
        ("Gamma: Ship · 3 ship / 1 skip", "Developer Tools")
    ]
    root, _ = fetch_feed(client, "/categories/open-weight-models/verdicts.atom")
    assert sorted(e["title"].split(":")[0] for e in entries(root)) == ["Alpha", "Beta"]
    assert len(entries(fetch_feed(client)[0])) == 3
    assert client.get("/categories/nothing-here/verdicts.atom").status_code == 404


def test_the_feed_is_bounded_with_a_constant_number_of_queries(client, personas, settings):
    settings.PAGE_CACHE_SECONDS = 0  # count what a render costs, not a page served from the cache
    tools = add_tools(*(f"Tool {i}" for i in range(6)))
    for i in range(11):  # each run flips the verdict, so each is an event
        if i == 2:
            client.get(FEED)  # warm what is cached across requests (the panel's size)
            with CaptureQueriesContext(connection) as few:
                assert len(entries(fetch_feed(client)[0])) == 12
        for tool in tools:
            verdict(tool, *(["ship", "ship", "ship", "skip"] if i % 2 == 0 else ["skip"] * 4))
    with CaptureQueriesContext(connection) as many:
        listed = entries(fetch_feed(client)[0])
    assert len(listed) == EVENTS_SHOWN == 50  # 66 events stored, the newest 50 shown
    assert len(many) == len(few) <= 3  # runs with their tallies, their reviews, the runs before
    newest = PanelRun.objects.order_by("-finished_at", "-pk").first()
    assert listed[0]["id"].endswith(f"/verdict/{newest.pk}")


def test_a_polling_reader_gets_304_until_a_verdict_moves(client, personas):
    (tool,) = add_tools("Alpha")
    verdict(tool, "ship", "ship", "ship", "skip")
    etag = client.get(FEED)["ETag"]
    assert client.get(FEED, headers={"if-none-match": etag}).status_code == 304
    verdict(tool, "skip", "skip", "skip", "skip")
    assert client.get(FEED, headers={"if-none-match": etag}).status_code == 200


def alternates(html_text: str) -> dict[str, str]:
    found = {}
    for tag in re.findall(r"<link [^>]*>", html_text):
        if 'rel="alternate"' in tag and 'type="application/atom+xml"' in tag:
            href, title = re.search(r'href="([^"]+)"', tag)[1], re.search(r'title="([^"]+)"', tag)[1]
            found[html.unescape(href)] = html.unescape(title)
    return found


def test_feeds_are_discoverable_from_the_home_tool_and_category_pages(client, seed_pair):
    home, tool, category = (
        client.get(url).content.decode()
        for url in ("/", "/tools/code-llama-4", "/categories/developer-tools")
    )
    site_feed = {FEED: "Ship or Skip: new and changed verdicts"}
    category_feed = {"/categories/developer-tools/verdicts.atom": "Ship or Skip: Developer Tools verdicts"}
    assert alternates(home) == site_feed
    assert alternates(tool) == alternates(category) == {**site_feed, **category_feed}
    assert (
        '<a href="/categories/developer-tools/verdicts.atom">Follow new Developer Tools verdicts '
        "(Atom feed)</a>"
    ) in category
    for page in (home, tool, category):
        for href in alternates(page):
            fetch_feed(client, href)


# ---- badges ----


def get_badge(client, slug, query="", **headers):
    response = client.get(f"/tools/{slug}/badge.svg{query}", headers=headers)
    assert response.status_code == 200, response.content
    return response


def badge_texts(response) -> tuple[str, list[str]]:
    root = parse(response.content)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    return root.findtext(f"{SVG}title"), [t.text for t in root.iter(f"{SVG}text")]


def test_the_badge_says_ship_skip_split_or_no_verdict(client, personas):
    ship, skip, split, abstained, unreviewed = add_tools("Ship Me", "Skip Me", "Split Me", "Shrug", "Waiting")
    verdict(ship, "ship", "ship", "ship", "skip")
    verdict(skip, "ship", "skip", "skip", "skip")
    verdict(split, "ship", "ship", "skip", "skip")
    verdict(abstained, "none", "none", "none", "none")
    cases = {
        ship: ("Ship · 3/4", "Ship · 3 ship / 1 skip"),
        skip: ("Skip · 1/4", "Skip · 1 ship / 3 skip"),
        split: ("Split · 2/4", "Split · 2 ship / 2 skip"),
        abstained: ("No verdict", "no verdict (every reviewer abstained)"),
        unreviewed: ("No verdict yet", "no verdict yet"),
    }
    for tool, (value, words) in cases.items():
        response = get_badge(client, tool.slug)
        assert response["Content-Type"] == "image/svg+xml"
        assert len(response.content) < 2048
        assert badge_texts(response) == (f"{tool.name} on Ship or Skip: {words}", ["Ship or Skip", value])


def test_the_badge_is_cacheable_forbids_scripts_and_embeds_anywhere(client, personas):
    (tool,) = add_tools("Alpha")
    verdict(tool, "ship", "ship", "ship", "skip")
    response = get_badge(client, "alpha")
    assert response["Cache-Control"] == f"public, max-age={settings.CACHE_SECONDS}"
    policy = response["Content-Security-Policy"]
    assert policy == "default-src 'none'" and "script" not in policy  # default-src 'none' covers scripts
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"<script" not in response.content and b"href" not in response.content
    head = client.head("/tools/alpha/badge.svg")
    assert head.status_code == 200 and head["Content-Type"] == "image/svg+xml"
    refused = client.post("/tools/alpha/badge.svg")
    assert refused.status_code == 405 and {"GET", "HEAD"} <= set(refused["Allow"].split(", "))


def test_light_and_dark_differ_and_the_score_style_shows_the_mean(client, personas):
    (tool,) = add_tools("Alpha")
    verdict(tool, "ship", "ship", "ship", "skip")  # 81, 81, 81, 30: mean 68.25
    light = get_badge(client, "alpha")
    dark = get_badge(client, "alpha", "?theme=dark")
    assert light.content != dark.content and light["ETag"] != dark["ETag"]
    assert badge_texts(light) == badge_texts(dark)  # the same words in both
    fills = [
        {t.get("fill") for t in parse(b.content).iter(f"{SVG}rect")} - {"url(#s)", None}
        for b in (light, dark)
    ]
    assert not fills[0] & fills[1]  # no colour in common
    title, texts = badge_texts(get_badge(client, "alpha", "?style=score&theme=dark"))
    assert texts == ["Ship or Skip", "Ship · 68/100"]
    assert title == "Alpha on Ship or Skip: Ship, panel score 68/100 (3 ship / 1 skip)"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?theme=neon", "theme must be one of light, dark, not 'neon'."),
        ("?style=stars", "style must be one of count, score, not 'stars'."),
    ],
)
def test_a_bad_badge_option_is_refused_by_name(client, personas, query, message):
    add_tools("Alpha")
    response = client.get(f"/tools/alpha/badge.svg{query}")
    assert response.status_code == 400 and response.content.decode().strip() == message
    assert client.get("/tools/nothing-here/badge.svg").status_code == 404


def test_an_untrusted_name_is_escaped_and_the_badge_stays_small(client, personas):
    category = Category.objects.create(slug="open-weight-models", name="Open-Weight Models")
    evil = Tool.objects.create(
        name="Evil <script>alert(1)</script> \"&' Tool", slug="evil", category=category, facts=FACTS
    )
    verdict(evil, "ship", "ship", "ship", "skip")
    response = get_badge(client, "evil", "?style=score")
    assert b"<script" not in response.content
    assert badge_texts(response)[0].startswith("Evil <script>alert(1)</script> \"&' Tool on Ship or Skip")
    # The longest name a tool may have, each character one that escapes to six bytes.
    longest = Tool.objects.create(
        name="'" * Tool._meta.get_field("name").max_length, slug="quotes", category=category, facts=FACTS
    )
    verdict(longest, "ship", "ship", "ship", "skip")
    for query in ("", "?theme=dark&style=score"):
        response = get_badge(client, "quotes", query)
        assert len(response.content) < 2048, len(response.content)
        badge_texts(response)


def test_304_on_if_none_match_and_a_new_verdict_changes_the_etag(client, personas):
    (tool,) = add_tools("Alpha")
    verdict(tool, "ship", "ship", "ship", "skip")
    etag = get_badge(client, "alpha")["ETag"]
    again = client.get("/tools/alpha/badge.svg", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert "public" in again["Cache-Control"]
    verdict(tool, "ship", "skip", "skip", "skip")
    changed = client.get("/tools/alpha/badge.svg", headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert badge_texts(changed)[1] == ["Ship or Skip", "Skip · 1/4"]


def embed_box(page_html: str) -> str:
    return re.search(r'<details class="embed".*?</details>', page_html, re.S)[0]


def textareas(box: str) -> dict[str, str]:
    found = re.finditer(r'<textarea id="([^"]+)"[^>]*>(.*?)</textarea>', box, re.S)
    return {m[1]: html.unescape(m[2]) for m in found}


def test_the_tool_page_offers_an_embed_snippet(client, personas):
    (tool,) = add_tools("Alpha")
    verdict(tool, "ship", "ship", "ship", "skip")
    box = embed_box(client.get("/tools/alpha").content.decode())
    assert "<summary>Embed this verdict</summary>" in box
    site = settings.SITE_URL
    assert textareas(box) == {
        "embed-html": f'<a href="{site}/tools/alpha"><img src="{site}/tools/alpha/badge.svg" '
        'alt="Alpha on Ship or Skip"></a>',
        "embed-md": f"[![Alpha on Ship or Skip]({site}/tools/alpha/badge.svg)]({site}/tools/alpha)",
    }
    assert "readonly" in box and '<img src="/tools/alpha/badge.svg"' in box


def test_xss_corpus_as_tool_names_stays_inert_in_badges_feeds_and_snippets(client, personas):
    """Every payload as a tool's name: the badge and the feed still parse, each name comes back
    exactly as text, and no HTML a reader renders (feed summaries, the embed box) holds it verbatim."""
    category = Category.objects.create(slug="open-weight-models", name="Open-Weight Models")
    tools = [
        Tool.objects.create(name=f"T{j} {payload}", slug=f"t{j}", category=category, facts=FACTS)
        for j, payload in enumerate(XSS)
    ]
    for tool in tools:
        verdict(tool, "ship", "ship", "ship", "skip")
    by_link = {e["link"]: e for e in entries(fetch_feed(client)[0])}
    problems: dict[str, list[str]] = {}
    for tool in tools:
        found = problems.setdefault(tool.slug, [])
        entry = by_link[settings.SITE_URL + tool.get_absolute_url()]
        if entry["title"] != f"{tool.name}: Ship · 3 ship / 1 skip":
            found.append(f"feed title {entry['title']!r}")
        found += [f"feed summary holds {p!r}" for p in unescaped(entry["summary"], XSS)]
        for query in ("", "?theme=dark&style=score"):
            badge = get_badge(client, tool.slug, query)
            title = badge_texts(badge)[0]
            if not title.startswith(f"{tool.name} on Ship or Skip") or len(badge.content) >= 2048:
                found.append(f"badge{query}")
            found += [f"badge holds {p!r}" for p in unescaped(badge.content.decode(), XSS)]
        box = embed_box(client.get(f"/tools/{tool.slug}").content.decode())
        found += [f"embed box holds {p!r}" for p in unescaped(box, XSS)]
        if f'alt="{html.escape(tool.name)} on Ship or Skip"' not in textareas(box)["embed-html"]:
            found.append("embed snippet")
    tried = 4 * len(tools)  # each name in a feed entry, two badges and an embed box
    bad = sum(len(v) for v in problems.values())
    TALLY.add(
        "tool names in feeds, badges and embed snippets", tried=tried, refused=tried - bad, problems=bad
    )
    assert {k: v for k, v in problems.items() if v} == {}


# ---- in the browser ----


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 360])
def test_the_badge_renders_as_an_image_on_the_page_and_elsewhere(seed_pair, live_server, browser, width):
    page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/tools/code-llama-4")
    assert page.locator('head link[rel="alternate"][type="application/atom+xml"]').count() == 2
    page.get_by_text("Embed this verdict").click()
    for img in page.locator(".embed-preview img").all():
        expect(img).to_have_js_property("complete", True)
        assert img.evaluate("i => i.naturalWidth") > 100 and img.evaluate("i => i.naturalHeight") == 20
    box = page.locator("#embed-html").bounding_box()
    assert box and box["x"] + box["width"] <= width  # the snippet box fits a phone's width
    expect(page.locator("#embed-md")).to_have_value(re.compile(r"^\[!\[Code Llama 4 on Ship or Skip\]"))
    # On another site: an <img> pointing here, from a page of a different origin.
    other = browser.new_context().new_page()
    other.set_content(f'<img id="b" src="{live_server.url}/tools/code-llama-4/badge.svg?theme=dark">')
    expect(other.locator("#b")).to_have_js_property("complete", True)
    assert other.locator("#b").evaluate("i => i.naturalWidth") > 100
    assert [e for e in errors if "Content Security Policy" in e or "badge" in e] == []
