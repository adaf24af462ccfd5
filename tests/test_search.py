"""Search: relevance, typos, safety of the query, constant queries, the FTS5 index kept in step,
the results page without JavaScript, the suggestions fragment and the JSON API."""

import copy
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shiporskip.catalog import search
from shiporskip.catalog.loading import BUNDLED_CATALOG, load_catalog, read_file
from shiporskip.catalog.models import Category, Tool
from shiporskip.cli import main
from tests.conftest import tool_entry
from tests.security_corpora import TALLY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_names():
    """The typo index is kept per process: one from another test's database is not ours."""
    search.forget_names()


# The query, and the tool that must come first for it.
RELEVANCE = [
    ("ollama", "Ollama"),  # exact name
    ("Cursor", "Cursor"),
    ("semantic kernel", "Semantic Kernel"),
    ("qwen3 coder", "Qwen3-Coder"),  # punctuation in the name
    ("llama.cpp", "llama.cpp"),
    ("copilot", "GitHub Copilot"),  # one word of the name
    ("mixtr", "Mixtral 8x7B"),  # a prefix, as while typing
    ("code", "Code Llama 4"),  # a whole word before a word it begins (Codestral)
    ("anysphere", "Cursor"),  # vendors
    ("element labs", "LM Studio"),
    ("ggml", "llama.cpp"),
    ("nomic", "GPT4All"),
    ("LLM APIs", "Anthropic API"),  # a category, its tools with the words in their name first
    ("local inference runtimes", "GPT4All"),  # a category: the panel's best, then by name
    ("apple silicon", "MLX"),  # best-for words
    ("gguf", "llama.cpp"),
    ("fill-in-the-middle", "Codestral"),
    ("LPU hardware", "Groq"),
    ("olama", "Ollama"),  # typos
    ("llamacpp", "llama.cpp"),
    ("langchian", "LangChain"),
    ("cursr", "Cursor"),
    ("semantik kernel", "Semantic Kernel"),
]


def first(query):
    found = search.search(query, 5)
    return found[0].name if found else None


def test_each_query_ranks_its_tool_first(catalog):
    results = {query: first(query) for query, _ in RELEVANCE}
    assert results == dict(RELEVANCE)


def test_name_hits_come_before_vendor_and_category_hits_and_those_before_text(catalog):
    names = [t.name for t in search.search("mistral", 10)]
    # Names with "Mistral" first, then the vendor's other tools, then tools that mention it.
    assert names[:3] == ["Mistral 7B", "Mistral 3 Small (22B)", "Mistral API (La Plateforme)"]
    vendor = {t.name for t in Tool.objects.filter(vendor="Mistral AI")} - set(names[:3])
    assert set(names[3 : 3 + len(vendor)]) == vendor
    assert all(t.vendor != "Mistral AI" for t in search.search("mistral", 20)[3 + len(vendor) :])


def test_a_category_lists_the_panels_best_first(catalog):
    from shiporskip.panel.running import review_tool

    for tool in Tool.objects.filter(category__slug="agent-frameworks").select_related("category"):
        review_tool(tool=tool, model="offline")
    found = search.search("agent frameworks", 20)
    in_name, rest = found[:1], found[1:]
    assert [t.name for t in in_name] == ["OpenAI Agents SDK"]  # "agents" is in its name
    scores = [t.panel_score for t in rest if t.category.slug == "agent-frameworks"]
    assert scores == sorted(scores, reverse=True) and len(scores) == 9


def test_results_carry_tallies_and_limit_is_kept(catalog):
    found = search.search("a", 3)
    assert len(found) == 3
    assert found[0].panel.label == "Not reviewed yet" and found[0].community.label
    assert search.search("", 5) == [] and search.search("  .,;  ", 5) == []
    assert search.search("ollama", 0) == []


# What a reader may type that is syntax to FTS5's MATCH or PostgreSQL's tsquery.
HOSTILE = [
    '"name:*) OR 1',
    "NEAR(",
    "NEAR(a b",
    "*",
    '"',
    "'",
    "''",
    "AND",
    "a AND",
    "OR 1=1 --",
    "NOT ollama",
    "-ollama",
    "^ollama",
    "name:ollama",
    "{name vendor}: x",
    "a + b",
    "ollama*",
    "(",
    ")",
    ":*",
    "'ollama':* | 'x'",
    "!ollama",
    "a & b",
    "a <-> b",
    "\\",
    "%",
    "_",
    "%_%",
    "ollama'; DROP TABLE catalog_tool; --",
    "💥",
    "\u202eamallo",
    "ＯＬＬＡＭＡ",
    "ö" * 200,
    "x " * 100,
    "llama" * 40,
]


def test_a_hostile_query_is_only_words(catalog, client):
    for query in HOSTILE:
        found = search.search(query, 10)  # never raises
        assert isinstance(found, list), query
        page = client.get("/search", {"q": query})
        api = client.get("/api/search", {"q": query})
        assert page.status_code == 200 and api.status_code == 200, query
        TALLY.add("search queries that are FTS5/tsquery syntax", tried=1)
    assert first('"name:*) OR 1') is None
    assert first("ＯＬＬＡＭＡ") == "Ollama" and first("Ollamá") == "Ollama"  # width, accents
    assert Tool.objects.count() == 58  # nothing was dropped
    # The MATCH string is quoted words, whatever came in.
    assert search.fts_match(search.terms('"name:*) OR 1')) == '"name"* "or"* "1"*'


def test_the_number_of_queries_does_not_grow_with_the_hits(catalog, django_assert_max_num_queries):
    search.forget_names()
    with django_assert_max_num_queries(3):  # (the typo index, cold), candidates, the tools
        assert len(search.search("ollama", 1)) == 1
    counts = []
    for query, limit in [("ollama", 1), ("a", 50), ("olama", 50), ("e", 1)]:
        with CaptureQueriesContext(connection) as queries:
            found = search.search(query, limit)
        counts.append(len(queries))
        assert found
    assert len(search.search("a", 50)) == 50
    assert counts == [2, 2, 2, 2]


def fts_rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid, name, category FROM catalog_tool_fts ORDER BY rowid")
        return cursor.fetchall()


def in_step():
    """The FTS5 table holds exactly the tools, with their category's name (SQLite only)."""
    if connection.vendor != "sqlite":
        return True
    return fts_rows() == [
        (t.pk, t.name, t.category.name) for t in Tool.objects.select_related("category").order_by("pk")
    ]


def test_the_index_follows_catalog_load_add_and_delete(catalog, tmp_path, capsys):
    assert in_step()
    data = read_file(BUNDLED_CATALOG)
    entry = copy.deepcopy(next(t for t in data["tools"] if t["name"] == "Ollama"))
    entry["best_for"] = "Running zanzibarite models with one command."
    load_catalog({"categories": data["categories"], "tools": [entry]})
    assert first("zanzibarite") == "Ollama" and in_step()

    path = tmp_path / "tool.json"
    path.write_text(json.dumps(tool_entry("Quetzal Runner", category="local-inference")))
    assert main(["add", "--file", str(path)]) == 0, capsys.readouterr().err
    assert first("quetzal") == "Quetzal Runner" and first("quetzl") == "Quetzal Runner"
    # Renamed with no signal (as by another process): the typo index still has the old name,
    # and holds no full-text hit back.
    Tool.objects.filter(slug="quetzal-runner").update(name="Quetzal Walker")
    assert first("walker") == "Quetzal Walker"
    Tool.objects.filter(slug="quetzal-runner").update(name="Quetzal Runner")
    assert in_step()

    Category.objects.filter(slug="local-inference").update(name="Home Inference Engines")
    assert "Quetzal Runner" in [t.name for t in search.search("home inference engines", 20)]
    Category.objects.filter(slug="local-inference").update(name="Local Inference Runtimes")

    Tool.objects.get(slug="quetzal-runner").delete()
    cache.clear()  # another process's names list expires within a minute; this one is cleared
    assert first("quetzal") is None and in_step()


def test_the_index_follows_an_admin_edit(catalog, admin_client):
    tool = Tool.objects.get(slug="cline")
    assert first("cline") == "Cline"  # the typo list is now cached, with the old name
    response = admin_client.post(
        f"/admin/catalog/tool/{tool.pk}/change/",
        {
            "name": "Zebrafish Coder",
            "slug": tool.slug,
            "vendor": "Cline Labs",
            "category": tool.category_id,
            "best_for": "Pair-programming with a xylophonic agent.",
            "facts": json.dumps(tool.facts),
            "facts_changes-TOTAL_FORMS": 0,
            "facts_changes-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    assert first("xylophonic") == "Zebrafish Coder" and first("cline labs") == "Zebrafish Coder"
    assert first("zebrafsh") == "Zebrafish Coder"  # the cached typo list forgot the old name
    assert in_step()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_near_spelling_below_the_default_word_threshold_is_found(catalog):
    # word_similarity("quizval", "Quizxvalon Runner") is 0.5: under pg_trgm's default 0.6 for
    # `%>`, which the candidates' indexed condition uses, but over SIMILAR; no full-text hit and
    # no whole-name similarity (0.24) finds it. Every connection sets the operators' thresholds
    # as it opens (catalog/apps.py).
    data = read_file(BUNDLED_CATALOG)
    load_catalog(
        {
            "categories": data["categories"],
            "tools": [tool_entry("Quizxvalon Runner", category="local-inference")],
        }
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT word_similarity('quizval', 'Quizxvalon Runner')")
        assert search.SIMILAR <= cursor.fetchone()[0] < 0.6
        cursor.execute("SHOW pg_trgm.word_similarity_threshold")
        assert float(cursor.fetchone()[0]) == search.INDEX_SIMILAR
    assert "Quizxvalon Runner" in [t.name for t in search.search("quizval", 50)]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_the_index_comes_back_after_a_table_rebuild_drops_its_triggers(catalog):
    # SQLite alters a table by copying it, which drops its triggers: migrate puts them back.
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER catalog_tool_fts_update")
        cursor.execute("DELETE FROM catalog_tool_fts WHERE rowid = %s", [Tool.objects.get(slug="ollama").pk])
    assert first("ollama") == "Ollama"  # found by its near spelling only
    assert not in_step()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    assert in_step()
    Tool.objects.filter(slug="ollama").update(best_for="Quokkas")
    assert first("quokkas") == "Ollama"


# --- The pages --------------------------------------------------------------------------------


def test_results_page_without_javascript(catalog, client):
    page = client.get("/search", {"q": "olama"})
    assert page.status_code == 200 and "public" in page["Cache-Control"]
    html = page.content.decode()
    assert '<a href="/tools/ollama">Ollama</a>' in html
    assert "Local Inference Runtimes · Ollama" in html and "Not reviewed yet" in html
    assert "match “olama”" in html and html.index("Ollama</a>") < html.index("Code Llama 4</a>")


def test_results_page_shows_the_panels_verdict_and_score(seed_pair, client):
    tool = Tool.objects.with_panel().get(slug="code-llama-4")
    html = client.get("/search", {"q": "code llama"}).content.decode()
    assert tool.panel.label in html
    assert "mean score " in html and "/100" in html


def test_empty_and_unmatched_queries_say_so_and_point_to_every_tool(catalog, client):
    empty = client.get("/search").content.decode()
    assert "Type a few letters" in empty and 'href="/tools"' in empty
    none = client.get("/search", {"q": "zzqqxx"}).content.decode()
    assert "No tool matches “zzqqxx”" in none and 'href="/tools"' in none


def test_a_query_too_long_is_refused_with_the_reason(catalog, client):
    page = client.get("/search", {"q": "x" * 201})
    assert page.status_code == 400
    assert "at most 200 characters" in page.content.decode()
    assert client.get("/search/suggestions", {"q": "x" * 201}).status_code == 400
    api = client.get("/api/search", {"q": "x" * 201})
    assert api.status_code == 400 and "at most 200" in api.json()["detail"]


def test_a_control_character_is_refused_before_the_search(catalog, client):
    assert client.get("/search", {"q": "oll\x00ama"}).status_code == 400
    assert client.get("/api/search", {"q": "oll\x1bama"}).status_code == 400


def test_suggestions_fragment(catalog, client):
    html = client.get("/search/suggestions", {"q": "langchian"}, HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<li role="option"')
    assert 'data-href="/tools/langchain" data-slug="langchain" data-name="LangChain"' in html
    assert 'data-href="/search?q=langchian"' in html
    none = client.get("/search/suggestions", {"q": "zzqqxx"}).content.decode()
    assert "No tool matches" in none and 'data-href="/tools"' in none
    assert client.get("/search/suggestions", {"q": ""}).content.decode().strip() == ""


def test_the_header_has_a_search_box_on_every_page(catalog, client):
    for url in ["/", "/tools/ollama", "/search?q=x"]:
        html = client.get(url).content.decode()
        assert 'role="search" action="/search" method="get"' in html, url
        assert 'hx-get="/search/suggestions"' in html, url


def test_the_picker_has_search_boxes_hidden_until_javascript(catalog, client):
    html = client.get("/").content.decode()
    assert html.count('class="pick-search" data-enhance hidden') == 2
    assert html.count('autocomplete="off" disabled') == 2  # never submitted without JavaScript
    assert '<select id="pick-a" name="a" required>' in html


# --- The API ----------------------------------------------------------------------------------


def test_api_search(catalog, client):
    hits = client.get("/api/search", {"q": "olama", "limit": 2}).json()
    assert [h["slug"] for h in hits][:1] == ["ollama"] and len(hits) == 2
    assert hits[0]["vendor"] == "Ollama" and hits[0]["url"] == "/tools/ollama"
    assert hits[0]["panel"]["label"] == "Not reviewed yet"
    assert client.get("/api/search").json() == []
    assert len(client.get("/api/search", {"q": "a", "limit": 50}).json()) == 50
    for limit in ["0", "51", "x"]:
        response = client.get("/api/search", {"q": "a", "limit": limit})
        assert response.status_code == 400 and "limit" in response.json()["detail"]
    schema = client.get("/api/openapi.json").json()["paths"]["/api/search"]["get"]
    assert {"200", "400", "414"} <= set(schema["responses"])
