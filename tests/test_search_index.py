"""The typo index (catalog/search.py `NameIndex`): the same near spellings, with the same
similarities, as `_similarity` looped over every tool; and kept in step with the catalog."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shiporskip.catalog import search
from shiporskip.catalog.models import Tool
from tests.scale import bundled_reviewed, grow_reviewed

pytestmark = pytest.mark.django_db

QUERIES = [
    "olama",
    "llamacpp",
    "langchian",
    "cursr",
    "semantik kernel",
    "code",
    "lla",
    "mistral",
    "copy",  # every grown copy's name has it
    "gpt copy 12",
    "amazon bedrock copy 985",
    "a",
    "9",
    "x " * 8,
    "übersetzer",
    "strasse",
    "ﬁle",
]


@pytest.fixture(autouse=True)
def fresh_names():
    search.forget_names()


def plain(rows, query: str) -> dict[int, float]:
    """What _sqlite_candidates computed before the index: every tool's name and vendor."""
    spelled = " ".join(search.terms(query))
    found = {}
    for row, (_pk, name, vendor, *_rest) in enumerate(rows):
        similarity = max(search._similarity(spelled, name), search._similarity(spelled, vendor))
        if similarity >= search.SIMILAR:
            found[row] = similarity
    return found


def same_as_plain(rows) -> None:
    index = search.NameIndex(rows, newest=None)
    for query in QUERIES:
        spelled = " ".join(search.terms(query))
        assert index.similar(spelled) == plain(rows, query), query


def catalog_rows():
    return list(Tool.objects.values_list("pk", "name", "vendor", "category__name", "panel_mean"))


def test_the_index_gives_the_loops_similarities_for_the_bundled_and_a_grown_catalog():
    bundled_reviewed()
    same_as_plain(catalog_rows())
    grow_reviewed(700)
    rows = catalog_rows()
    assert len(rows) == 700
    same_as_plain(rows)


def test_the_index_gives_the_loops_similarities_for_awkward_names():
    # Accents, a ligature, a sharp s, punctuation only, an empty vendor, a vendor that is also
    # a name, words repeated within a name.
    names = [
        ("Übersetzer Straße", "Ollamá Labs"),
        ("ﬁle runner", ""),
        ("...", "Mistral AI"),
        ("Mistral AI", "Mistral AI"),
        ("copy copy copy", "Copy Co"),
        ("GPT-4o copy 12 copy 9999", "OpenAI"),
        ("ＯＬＬＡＭＡ", "ollama"),
    ]
    same_as_plain([(pk, name, vendor, "", None) for pk, (name, vendor) in enumerate(names, 1)])


def test_a_tool_added_without_a_signal_is_a_near_spelling_at_once(catalog):
    assert search.search("olama", 1)[0].name == "Ollama"  # the index is built
    with connection.cursor() as cursor:  # as another process or a bulk load would: no signal
        cursor.execute(
            "INSERT INTO catalog_tool (name, slug, vendor, category_id, best_for, description, "
            "pricing, entry_price, license, website, facts, created_at, updated_at, panel_ship, "
            "panel_skip) SELECT 'Zanzibar Engine', 'zanzibar-engine', vendor, category_id, '', '', "
            "'', '', '', '', facts, created_at, updated_at, 0, 0 FROM catalog_tool WHERE slug = 'ollama'"
        )
    with CaptureQueriesContext(connection) as queries:
        found = search.search("zanzibr engin", 5)
    assert [t.name for t in found][:1] == ["Zanzibar Engine"]
    # SQLite: the candidates (whose newest id says the index is behind), the index, the tools.
    assert len(queries) <= 3


def test_the_queries_stay_the_same_as_the_catalog_grows():
    bundled_reviewed()
    counts = []
    for size in (None, 400):
        if size:
            grow_reviewed(size)
        with CaptureQueriesContext(connection) as cold:
            search.search("code", 50)
        with CaptureQueriesContext(connection) as warm:
            search.search("lla", 8)
        counts.append((len(cold), len(warm)))
    assert counts[0] == counts[1], counts
