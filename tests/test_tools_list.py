"""Every tool at /tools (filters, sorts, pages, all links), category rankings, alternatives, and
the same filters in GET /api/tools: checked against the bundled catalog's own facts and tallies,
worked out here independently of shiporskip/catalog/listing.py."""

import html as htmllib
import re

import pytest

from shiporskip.catalog import listing
from shiporskip.catalog.loading import load_catalog
from shiporskip.catalog.models import Category, Tool
from shiporskip.community.models import Vote
from shiporskip.compare.comparison import compare_url
from shiporskip.panel.models import Review
from shiporskip.panel.running import review_tool
from tests.conftest import tool_entry

ROW = re.compile(r'<li class="tool-row">.*?<a href="/tools/([^"/]+)"', re.S)
NEXT = re.compile(r'<link rel="next" href="([^"]+)"')
PREV = re.compile(r'<link rel="prev" href="([^"]+)"')


def slugs_on(response) -> list[str]:
    return ROW.findall(response.content.decode())


def every_page(client, url: str) -> list[str]:
    """Follow the rel=next links from `url` to the end, as a reader without JavaScript would."""
    slugs, seen = [], set()
    while url:
        assert url not in seen
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        slugs += slugs_on(response)
        found = NEXT.search(response.content.decode())
        url = htmllib.unescape(found.group(1)) if found else None
    return slugs


# -- what each filter and sort means, worked out from the facts in Python ------------------------


def band(facts: dict) -> str | None:
    price = facts.get("price") or {}
    if price.get("currency", "USD") != "USD":
        return None
    seat = price.get("seat_monthly")
    if seat is not None:
        return "free" if seat == 0 else "under-20" if seat < 20 else "20-100" if seat <= 100 else "over-100"
    if price.get("input_per_mtok") is not None and price.get("output_per_mtok") is not None:
        return "per-token"
    return None


def panel_verdict(tool) -> str:
    return (tool.panel.verdict or "none").lower()


def expected_filters() -> dict[tuple[str, str], set[str]]:
    tools = list(Tool.objects.with_panel())
    out = {}
    for cat in Category.objects.all():
        out[("category", cat.slug)] = {t.slug for t in tools if t.category_id == cat.pk}
    for verdict in ("ship", "skip", "split", "none"):
        out[("verdict", verdict)] = {t.slug for t in tools if panel_verdict(t) == verdict}
    for price in ("free", "under-20", "20-100", "over-100", "per-token"):
        out[("price", price)] = {t.slug for t in tools if band(t.facts) == price}
    for key, fact in (
        ("open_weights", lambda f: f.get("open_weights")),
        ("self_hostable", lambda f: f.get("self_hostable")),
        ("free_tier", lambda f: (f.get("price") or {}).get("free_tier")),
    ):
        out[(key, "yes")] = {t.slug for t in tools if fact(t.facts) is True}
        out[(key, "no")] = {t.slug for t in tools if fact(t.facts) is False}
    return out


def mean_scores() -> dict[int, float]:
    scores = {}
    for review in Review.objects.current().exclude(score=None):
        scores.setdefault(review.tool_id, []).append(review.score)
    return {tool: sum(s) / len(s) for tool, s in scores.items()}


def expected_order(sort: str) -> list[str]:
    tools = list(Tool.objects.with_tallies())
    means = mean_scores()
    last = float("inf")

    def key(t):
        f, votes = t.facts, t.vote_ship + t.vote_skip
        price = f.get("price") or {}
        rank = {"free": 0, "under-20": 1, "20-100": 2, "over-100": 3, "per-token": 4}.get(band(f), last)
        token = (
            (3 * price["input_per_mtok"] + price["output_per_mtok"]) / 4
            if price.get("input_per_mtok") is not None and price.get("output_per_mtok") is not None
            else last
        )
        seat = price.get("seat_monthly")
        year = f.get("release_year")
        return {
            "panel": (-means[t.pk] if t.pk in means else last, -t.ship_count, t.skip_count),
            "community": (-(t.vote_ship - t.vote_skip) if votes else last, -votes),
            "price": (
                rank,
                seat if seat is not None and rank != last else last,
                token if rank != last else last,
            ),
            "newest": (-year if year else last, -t.created_at.timestamp()),
            "name": (),
        }[sort] + (t.name, t.pk)

    return [t.slug for t in sorted(tools, key=key)]


@pytest.fixture
def voted(reviewed):
    """Community votes on a few tools, so the community sort has something to sort."""
    plan = {"cursor": (5, 1), "ollama": (3, 0), "aider": (1, 4), "vllm": (3, 0), "groq": (0, 2)}
    for slug, (ships, skips) in plan.items():
        tool = Tool.objects.get(slug=slug)
        for i in range(ships + skips):
            Vote.objects.cast(tool=tool, voter=f"a:{slug}{i}", verdict="ship" if i < ships else "skip")


# -- /tools ------------------------------------------------------------------------------------


def test_each_filter_lists_exactly_the_tools_its_facts_say_on_the_page_and_in_the_api(client, reviewed):
    expected = expected_filters()
    assert expected[("price", "per-token")] and expected[("verdict", "split")]  # the data covers them
    for (key, value), slugs in expected.items():
        url = f"/tools?{key}={value}"
        assert set(listed := every_page(client, url)) == slugs, url
        assert len(listed) == len(slugs)
        text = client.get(url).content.decode()
        assert f"{len(slugs)} tool{'s' if len(slugs) != 1 else ''} match" in text
        api = client.get("/api/tools", {key: value})
        assert {t["slug"] for t in api.json()} == slugs and api["X-Total-Count"] == str(len(slugs))
    # Filters combine (AND), and unknown facts are in neither yes nor no.
    both = expected[("open_weights", "yes")] & expected[("verdict", "ship")]
    assert set(every_page(client, "/tools?verdict=ship&open_weights=yes")) == both
    unknown = {t.slug for t in Tool.objects.all() if t.facts.get("open_weights") is None}
    assert unknown and not unknown & (expected[("open_weights", "yes")] | expected[("open_weights", "no")])
    no_band = {t.slug for t in Tool.objects.all() if band(t.facts) is None}
    assert {"openrouter", "amazon-bedrock"} <= no_band  # no price in numbers: in no band
    assert (
        "No tool matches all of these filters"
        in client.get("/tools?price=over-100&open_weights=yes").content.decode()
    )
    check_api_pages_with_limit_and_offset(client)  # same data: one catalog review, not two


def test_each_sort_orders_the_whole_list_and_each_category_in_the_database(client, voted):
    for sort in ("panel", "community", "price", "newest", "name"):
        order = expected_order(sort)
        assert every_page(client, f"/tools?sort={sort}") == order, sort
        api = [t["slug"] for t in client.get("/api/tools", {"sort": sort}).json()]
        assert api == order, sort
    # The default page order is the panel's; the API's stays by name, as before.
    assert slugs_on(client.get("/tools")) == expected_order("panel")[:24]
    assert [t["slug"] for t in client.get("/api/tools").json()] == expected_order("name")
    community = expected_order("community")
    assert community[:5] == ["cursor", "ollama", "vllm", "groq", "aider"]  # net 4, 3, 3, -2, -3
    # Ranked tools are numbered; those with nothing to rank by (no votes) come last, unnumbered.
    text = client.get("/tools?sort=community").content.decode()
    ranks = re.findall(
        r'<span class="rank">(?:<span class="visually-hidden">Rank </span>(\d+)'
        r'|<span class="muted")',
        text,
    )
    assert ranks[:5] == ["1", "2", "3", "4", "5"] and ranks[5:] == [""] * (len(ranks) - 5)
    check_a_category_ranks_its_tools_by_the_panel_with_the_community_beside(client)


def test_a_list_row_carries_each_tools_tallies_ranks_and_category_as_its_facts_say(voted):
    """listing.rows(), the one statement every list reads its rows with, against what each
    tool's own facts, reviews and votes say, worked out here; in the order asked for."""
    means = mean_scores()
    by_pk = {t.pk: t for t in Tool.objects.with_tallies().select_related("category")}
    asked = sorted(by_pk, reverse=True)  # an order of its own: not the table's
    rows = listing.rows([*asked, max(asked) + 1000])  # a pk with no tool is left out
    assert [t.pk for t in rows] == asked
    bands = ["free", "under-20", "20-100", "over-100", "per-token"]
    for row in rows:
        tool = by_pk[row.pk]
        ship, skip = tool.vote_ship, tool.vote_skip
        price = band(tool.facts)
        assert (row.name, row.slug, row.vendor, row.best_for, row.entry_price) == (
            tool.name,
            tool.slug,
            tool.vendor,
            tool.best_for,
            tool.entry_price,
        )
        assert (row.category.name, row.category.slug) == (tool.category.name, tool.category.slug)
        assert (row.panel, row.community) == (tool.panel, tool.community)
        assert (
            row.panel_score == pytest.approx(means.get(row.pk))
            if row.pk in means
            else row.panel_score is None
        )
        assert row.community_votes == ship + skip
        assert row.community_net == (ship - skip if ship + skip else None)
        assert row.price_band == price
        assert row.price_rank == (bands.index(price) if price else None)
        assert row.release_year == tool.facts.get("release_year")
        assert row.created_at == tool.created_at
        # The long fields are left for a page that shows them (read on access, not up front).
        assert {"facts", "description", "pricing"} <= row.get_deferred_fields()
    assert {r.community_net for r in rows} >= {4, 3, -2, -3, None}  # the votes were read
    assert len({r.price_band for r in rows}) > 2


def test_pages_link_to_each_other_and_every_link_works_without_javascript(client, catalog):
    total = Tool.objects.count()
    first = client.get("/tools")
    body = first.content.decode()
    assert f"All {total} tools in the catalog." in body and not PREV.search(body)
    assert 'rel="next"' in body and "Page 1 of 3" in body
    slugs = every_page(client, "/tools")
    assert len(slugs) == total == len(set(slugs))
    second = client.get("/tools?page=2").content.decode()
    assert PREV.search(second).group(1) == "/tools" and NEXT.search(second).group(1) == "/tools?page=3"
    # Every filter and sort is a plain link; following one keeps the others and starts at page 1.
    on = client.get("/tools?self_hostable=yes&sort=price&page=2").content.decode()
    assert 'href="/tools?verdict=ship&amp;self_hostable=yes&amp;sort=price"' in on
    assert 'href="/tools?sort=price"' in on  # the active filter's link removes it
    assert 'href="/tools?self_hostable=yes"' in on  # the default sort is left out of links
    assert 'href="/tools?self_hostable=no&amp;sort=price"' in on
    for href in set(re.findall(r'href="(/tools\?[^"]*)"', on)):
        assert client.get(htmllib.unescape(href)).status_code == 200, href
    assert "Clear all filters" in on and "Self-hostable: Yes" in on
    assert client.get("/tools/").status_code == 301


BAD = [
    (
        "sort=cheapest",
        "Sort “cheapest” is not one we know: use one of panel, community, price, newest, name.",
    ),
    ("verdict=maybe", "Panel verdict “maybe” is not one we know: use one of ship, skip, split, none."),
    ("price=cheap", "Price band “cheap” is not one we know"),
    ("open_weights=true", "Open weights “true” is not one we know: use one of yes, no."),
    ("category=nope", "Category “nope” is not one we know: use one of agent-frameworks"),
    ("page=two", "Page “two” is not a page number"),
    ("page=0", "Page “0” is not a page number"),
    ("page=%EF%BC%92", "is not a page number"),  # a full-width digit: isdigit() says yes
]


def test_bad_values_answer_400_with_what_is_wrong(client, catalog):
    for query, message in BAD:
        response = client.get(f"/tools?{query}")
        assert response.status_code == 400 and message in htmllib.unescape(response.content.decode())
        assert "public" not in response.get("Cache-Control", ""), query
        if not query.startswith(("category", "page=%")):
            ranking = client.get(f"/categories/llm-apis?{query}")
            assert ranking.status_code == 400 and message in htmllib.unescape(ranking.content.decode())


def test_a_page_past_the_end_is_404_with_the_way_back(client, catalog):
    response = client.get("/tools?verdict=none&page=4")
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is no page 4" in html and "This list has 3 pages" in html
    assert 'href="/tools?verdict=none&amp;page=3"' in html


def add_tools(n: int, reviewed: int):
    categories = ["coding-assistants", "llm-apis", "open-weight-models", "local-inference"]
    load_catalog(
        {
            "tools": [
                tool_entry(
                    f"Extra {i}",
                    category=categories[i % 4],
                    facts={
                        "open_weights": i % 3 == 0,
                        "release_year": 2020 + i % 6,
                        "price": {
                            "source": "https://example.com/p",
                            "as_of": "2025-06-01",
                            "free_tier": i % 2 == 0,
                            "seat_monthly": (i % 7) * 19.0 if i % 5 else None,
                            **(
                                {"input_per_mtok": 1.0 + i % 4, "output_per_mtok": 3.0, "token_model": "m"}
                                if i % 5 == 0
                                else {}
                            ),
                        },
                    },
                )
                for i in range(n)
            ]
        }
    )
    for tool in Tool.objects.filter(name__startswith="Extra").select_related("category")[:reviewed]:
        review_tool(tool=tool, model="offline")
    for tool in Tool.objects.filter(name__startswith="Extra")[:40]:
        Vote.objects.cast(tool=tool, voter=f"a:{tool.pk}", verdict="ship" if tool.pk % 2 else "skip")


PAGES = [
    "/tools",
    "/tools?sort=community&page=2",
    "/tools?price=free&sort=price",
    "/tools?verdict=ship&open_weights=yes&self_hostable=yes&free_tier=yes&sort=newest",
    "/tools?category=llm-apis&verdict=skip",
    "/categories/llm-apis",
    "/categories/llm-apis?sort=price",
    "/tools/cursor/alternatives",
    "/",
    "/api/tools",
    "/api/tools?sort=panel&limit=10&offset=20",
    "/api/tools?price=per-token&verdict=skip&category=llm-apis",
]


def test_queries_per_page_do_not_grow_with_the_catalog(client, reviewed, django_assert_max_num_queries):
    client.get("/")  # the footer's panel size, cached
    counts = {}
    for url in PAGES:
        with django_assert_max_num_queries(6) as ctx:
            assert client.get(url).status_code == 200, url
        counts[url] = len(ctx.captured_queries)
    add_tools(300, reviewed=30)
    assert Tool.objects.count() == 358
    client.get("/")  # the panel size is cached for 60 s: adding 300 tools may outlast it
    for url in PAGES:
        with django_assert_max_num_queries(counts[url]):
            assert client.get(url).status_code == 200, url
    assert len(every_page(client, "/tools")) == 358
    assert set(every_page(client, "/tools?price=over-100")) == {
        t.slug for t in Tool.objects.all() if band(t.facts) == "over-100"
    }


# -- category rankings ------------------------------------------------------------------------------


def check_a_category_ranks_its_tools_by_the_panel_with_the_community_beside(client):
    in_category = set(Tool.objects.filter(category__slug="local-inference").values_list("slug", flat=True))
    order = [s for s in expected_order("panel") if s in in_category]
    response = client.get("/categories/local-inference")
    html = response.content.decode()
    assert response.status_code == 200 and slugs_on(response) == order
    ranks = re.findall(r'<span class="visually-hidden">Rank </span>(\d+)', html)
    assert ranks == [str(i) for i in range(1, len(order) + 1)]
    assert f"{len(order)} tools, ranked by panel score" in html
    assert 'data-tally="ollama">Ship 100% · 3 votes<' in html  # the community beside the panel
    by_price = [s for s in expected_order("price") if s in in_category]
    assert slugs_on(client.get("/categories/local-inference?sort=price")) == by_price
    for sort in ("community", "price", "newest", "name"):
        assert f'href="/categories/local-inference?sort={sort}"' in html
    assert 'href="/tools?category=local-inference"' in html
    assert client.get("/categories/local-inference?category=llm-apis").status_code == 400
    assert client.get("/categories/local-inference?sort=best").status_code == 400


# -- alternatives -----------------------------------------------------------------------------


def test_alternatives_list_the_panels_rivals_each_linked_to_its_canonical_comparison(client, reviewed):
    for slug in ("cursor", "ollama", "openai-api", "langchain", "code-llama-4", "qwen3"):
        tool = Tool.objects.get(slug=slug)
        response = client.get(f"/tools/{slug}/alternatives")
        html = response.content.decode()
        assert response.status_code == 200 and f"<h1>Alternatives to {tool.name}</h1>" in html
        rivals = tool.rivals(12)
        assert slugs_on(response) == [r.slug for r in rivals]
        assert html.count("the panel compares them") == len(tool.rivals())  # the ones the panel weighs
        for rival in rivals:
            url = compare_url(slug, rival.slug)
            assert f'href="{url}"' in html
            assert client.get(url).status_code == 200, url  # canonical: no redirect
            label = Tool.objects.with_panel().get(pk=rival.pk).panel.label
            assert label in html
    assert client.get("/tools/nope/alternatives").status_code == 404
    # Reached by links: from the tool page, and /tools from the home page and the header.
    tool_page = client.get("/tools/cursor").content.decode()
    assert '<a href="/tools/cursor/alternatives">Alternatives to Cursor →</a>' in tool_page
    home = client.get("/").content.decode()
    assert f'<a href="/tools">All {Tool.objects.count()} tools →</a>' in home
    assert '<a href="/tools">All tools</a>' in home  # the header, on every page


# -- the JSON API ----------------------------------------------------------------------------------


def check_api_pages_with_limit_and_offset(client):
    every = [t["slug"] for t in client.get("/api/tools", {"sort": "panel"}).json()]
    page = client.get("/api/tools", {"sort": "panel", "limit": 10, "offset": 20})
    assert [t["slug"] for t in page.json()] == every[20:30]
    assert page["X-Total-Count"] == str(len(every))
    assert page["Link"] == (
        '</api/tools?sort=panel&limit=10&offset=10>; rel="prev", '
        '</api/tools?sort=panel&limit=10&offset=30>; rel="next"'
    )
    last = client.get("/api/tools", {"limit": 10, "offset": 50})
    assert len(last.json()) == 8 and last["Link"] == '</api/tools?limit=10&offset=40>; rel="prev"'
    first = client.get("/api/tools").json()[0]
    assert set(first) >= {
        "slug",
        "name",
        "category",
        "best_for",
        "entry_price",
        "panel",
        "community",
        "url",
        "panel_score",
        "price_band",
    }
    for query, message in [
        ({"sort": "cheapest"}, "sort: Input should be 'panel'"),
        ({"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"open_weights": "true"}, "open_weights: Input should be 'yes' or 'no'"),
    ]:
        response = client.get("/api/tools", query)
        assert response.status_code == 400 and message in response.json()["detail"], query
    unknown = client.get("/api/tools", {"category": "nope"})
    assert unknown.status_code == 404 and unknown.json()["detail"].startswith(
        "Unknown category “nope”: use one of agent-frameworks, coding-assistants"
    )


def test_api_docs_declare_the_new_parameters(client, db):
    spec = client.get("/api/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/api/tools"]["get"]["parameters"]}
    assert set(params) == {
        "category",
        "verdict",
        "price",
        "open_weights",
        "self_hostable",
        "free_tier",
        "sort",
        "limit",
        "offset",
    }
    text = str(params["sort"]["schema"])
    assert all(s in text for s in ("panel", "community", "price", "newest", "name"))
