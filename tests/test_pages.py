import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from shiporskip.catalog.loading import load_catalog
from shiporskip.catalog.models import Tool
from shiporskip.panel.models import Review
from shiporskip.panel.running import review_tool
from shiporskip.panel.templatetags.reviews import clip
from tests.conftest import panel_label, tool_entry

COMPARE = "/compare/code-llama-4-vs-mistral-3-small-22b"


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_home_lists_verdicts_categories_and_the_picker(client, reviewed):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Latest verdicts" in html and "Developer Tools" in html
    assert '<label for="pick-a">' in html and '<select id="pick-b" name="b"' in html
    assert "public" in response["Cache-Control"]


def test_tool_page_shows_card_panel_reviews_and_alternatives(client, reviewed):
    response = client.get("/tools/code-llama-4")
    text = text_of(response)
    assert response.status_code == 200
    tool = Tool.objects.with_panel().get(slug="code-llama-4")
    assert f"The panel: {tool.panel.label} ({tool.panel.ship_share}% ship)" in text
    for persona in ("Builder", "Skeptic", "Futurist", "Founder"):
        assert persona in text
    assert "The moment of truth" in text and "Who buys, who pays" in text
    html = response.content.decode()
    for rival in Tool.objects.get(slug="code-llama-4").rivals(4):
        assert f'href="/compare/{"-vs-".join(sorted(["code-llama-4", rival.slug]))}"' in html
    assert "Facts as of" in text


def test_comparison_page_matches_the_seed_structure(client, seed_pair):
    response = client.get(COMPARE)
    assert response.status_code == 200
    html, text = response.content.decode(), text_of(response)
    assert (
        "<title>Code Llama 4 vs Mistral 3 Small (22B): Which AI Tool Should You Ship? — Ship or Skip</title>"
    ) in html
    assert "Compare / Code Llama 4 vs Mistral 3 Small (22B) · AI tool comparison" in text
    assert "<h1>Code Llama 4 vs Mistral 3 Small (22B)</h1>" in html
    assert '<table class="decision">' in html
    for row in ("Panel verdict", "Community", "Pricing", "Best for", "Category"):
        assert f'<th scope="row">{row}</th>' in html
    assert "No community votes yet" in text
    assert panel_label("code-llama-4") in text and panel_label("mistral-3-small-22b") in text
    scores = re.findall(r"(\d+)/100 · (ship|skip) (\d+) against a bar of (\d+) \(([+-]\d+)\)", text)
    assert len(scores) == 8
    for score, _, again, bar, margin in scores:  # each score shown with its bar and its margin
        assert score == again and int(score) - int(bar) == int(margin)
    assert "Your bookmarks" in text and "Vote ship for Code Llama 4" in html


def test_reversed_order_redirects_permanently_to_the_canonical_url(client, seed_pair):
    response = client.get("/compare/mistral-3-small-22b-vs-code-llama-4")
    assert response.status_code == 301 and response["Location"] == COMPARE


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/compare/code-llama-4-vs-code-llama-4", "compared with itself"),
        ("/compare/code-llama-4-vs-nothing-here", "no tool called “nothing-here”"),
        ("/compare/no-separator", "looks like /compare/a-vs-b"),
    ],
)
def test_bad_comparisons_answer_404_with_a_helpful_page(client, seed_pair, url, message):
    response = client.get(url)
    assert response.status_code == 404
    assert message in response.content.decode()
    assert 'id="pick-a"' in response.content.decode()


def test_picker_redirects_to_the_canonical_comparison(client, seed_pair):
    response = client.get("/compare/", {"a": "mistral-3-small-22b", "b": "code-llama-4"})
    assert response.status_code == 302 and response["Location"] == COMPARE
    assert client.get("/compare/", {"a": "code-llama-4", "b": "code-llama-4"}).status_code == 404


def test_category_page(client, reviewed):
    response = client.get("/categories/developer-tools")
    assert response.status_code == 200 and "Code Llama 4" in response.content.decode()
    assert client.get("/categories/nope").status_code == 404


def test_a_persona_page_before_any_review_says_so(client, catalog):
    response = client.get("/panel/founder")
    assert response.status_code == 200 and "No reviews here yet." in text_of(response)


def test_persona_page_has_motto_style_tally_and_one_line_per_tool(client, reviewed):
    response = client.get("/panel/founder")
    text = text_of(response)
    assert "A tool is only as good as the business you can build on it." in text
    assert "Style brief" in text and "Excites" in text and "Tires" in text
    assert "Verdicts by category" in text
    assert text.count("/100 ·") == Tool.objects.count()
    filtered = text_of(client.get("/panel/founder", {"category": "developer-tools"}))
    assert filtered.count("/100 ·") == Tool.objects.filter(category__slug="developer-tools").count()
    assert client.get("/panel/").status_code == 200
    # Each line: the tool, linked, and the persona's score, verdict and bottom line from its
    # current review (the summary section), as the Review model gives them.
    page = response.content.decode()
    reviews = Review.objects.current().filter(persona__key="founder").select_related("tool", "persona")
    assert len(reviews) == Tool.objects.count()
    for review in reviews:
        tool, verdict = review.tool, review.verdict
        shown = f"{review.score}/100 · {verdict}" if review.score is not None else "no verdict"
        line = (
            f'<a href="/tools/{tool.slug}">{escape(tool.name)}</a> <span class="score score-{verdict}">'
            f'{shown}</span> <span class="muted">{escape(clip(review.summary, 160))}</span>'
        )
        assert review.summary and line in page, line


def test_tool_page_shows_a_failed_run_and_how_to_retry(client, seed_pair):
    review_tool(tool=seed_pair[0], model="nonsense/model")
    text = text_of(client.get("/tools/code-llama-4"))
    assert ("The last panel review (nonsense/model) failed: the reviewer backend is not configured") in text
    assert "the verdict below is from the review before it" in text
    assert "shiporskip review code-llama-4" in text
    assert "unknown reviewer backend" not in text  # details are for the publisher, not readers


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_pages_cost_a_fixed_number_of_queries_whatever_the_catalog_size(client, seed_pair):
    urls = ["/", COMPARE, "/tools/code-llama-4", "/categories/developer-tools", "/panel/builder"]
    before = {url: count_queries(client, url) for url in urls}
    load_catalog({"tools": [tool_entry(f"Extra {i}", category="developer-tools") for i in range(12)]})
    for tool in Tool.objects.filter(name__startswith="Extra").select_related("category"):
        review_tool(tool=tool, model="offline")
    after = {url: count_queries(client, url) for url in urls}
    assert after == before
    assert before[COMPARE] <= 6


MARKUP_NAME = '<script>alert("x")</script> Tool'
MARKUP_TEXT = "<img src=x onerror=alert(1)> and <b>bold</b>"


def test_markup_in_tool_text_renders_as_text_everywhere(client, seed_pair):
    load_catalog(
        {
            "tools": [
                tool_entry(
                    MARKUP_NAME,
                    category="developer-tools",
                    description=MARKUP_TEXT,
                    best_for=MARKUP_TEXT,
                    pricing=MARKUP_TEXT,
                )
            ]
        }
    )
    tool = Tool.objects.select_related("category").get(name=MARKUP_NAME)
    review_tool(tool=tool, model="offline")
    pages = [
        "/",
        f"/tools/{tool.slug}",
        "/categories/developer-tools",
        "/panel/skeptic",
        f"/compare/code-llama-4-vs-{tool.slug}",
        "/panel/builder",
    ]
    for url in pages:
        response = client.get(url, follow=True)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "onerror=alert(1)&gt;" in html or "&lt;script&gt;" in html, url


def test_tool_page_shows_an_open_run_and_refreshes_itself(
    client, catalog, django_capture_on_commit_callbacks
):
    from shiporskip.panel.tasks import queue_panel_run

    tool = Tool.objects.select_related("category").get(slug="code-llama-4")
    with django_capture_on_commit_callbacks(execute=False):
        queue_panel_run(tool=tool)
    response = client.get("/tools/code-llama-4")
    assert "Panel review queued" in text_of(response)
    assert '<meta http-equiv="refresh" content="5">' in response.content.decode()
    assert "no-cache" in response["Cache-Control"]
    assert 'http-equiv="refresh"' not in client.get("/").content.decode()


def test_admin_refuses_malformed_facts(admin_client, catalog):
    tool = Tool.objects.get(slug="code-llama-4")
    page = admin_client.get(f"/admin/catalog/tool/{tool.pk}/change/")
    assert page.status_code == 200
    form = {
        "name": tool.name,
        "slug": tool.slug,
        "vendor": tool.vendor,
        "category": tool.category_id,
        "best_for": tool.best_for,
        "description": tool.description,
        "pricing": tool.pricing,
        "entry_price": tool.entry_price,
        "license": tool.license,
        "website": tool.website,
        "facts": '{"kind": "spaceship"}',
    }
    response = admin_client.post(f"/admin/catalog/tool/{tool.pk}/change/", form)
    assert response.status_code == 200  # the form again, with the error
    assert "facts.kind" in response.content.decode()
    assert Tool.objects.get(pk=tool.pk).facts["kind"] == "model"


def test_tool_page_shows_each_persona_as_it_finishes(client, seed_pair):
    from shiporskip.panel.models import PanelRun

    PanelRun.objects.create(
        tool=seed_pair[0],
        model="ollama/qwen2.5:7b",
        status="running",
        personas_total=4,
        personas_done=1,
        progress={"builder": "done", "skeptic": "asking", "futurist": "asking", "founder": "asking"},
    )
    text = text_of(client.get("/tools/code-llama-4"))
    assert "Panel review running by ollama/qwen2.5:7b : 1 of 4 reviewers done" in text
    assert "Builder: done" in text and "Skeptic: asking" in text


def test_compare_urls_with_many_separators_are_refused_cheaply(client, seed_pair):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/compare/" + "-vs-".join(f"x{i}" for i in range(600)))
    assert response.status_code == 404 and len(ctx.captured_queries) <= 2


def test_picker_refuses_unknown_or_malformed_slugs(client, seed_pair):
    response = client.get("/compare/", {"a": "code-llama-4", "b": "x/y"})
    assert response.status_code == 404 and "no tool called “x/y”" in response.content.decode()
