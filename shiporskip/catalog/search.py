"""Search the catalog: `search(query, limit)` returns tools, best match first.

Two steps, a constant number of queries whatever the catalog's size or the number of hits:

1. Candidates. The database's own full-text search over name, vendor, category name, best-for
   and description, each query word matched as a prefix (so suggestions work while typing):
   PostgreSQL's (`SearchVector`/`SearchRank`, with `pg_trgm` similarity over names and vendors
   in the same query for typos), or SQLite's FTS5 (the `catalog_tool_fts` table, kept in step
   with `catalog_tool` by triggers, see `ensure_index()`), plus a trigram similarity computed
   here over the cached list of names and vendors (few, short strings) for typos.
2. Order. Every candidate falls in a tier: every word in the name first, then in the name,
   vendor or category, then in the other text, then a near spelling of a name or vendor only.
   Within a tier the order is plain (see `_order_key`), so both databases agree on the first
   result for the same catalog.

The reader's text never reaches a query as syntax: it is cut into words of letters and digits
only, and each word is quoted on top of that (FTS5's MATCH and PostgreSQL's tsquery both have
operators: `NEAR(`, `OR`, `*`, `:`, `!`, `&`).
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.core.cache import cache
from django.db import connection
from django.db.models import F, Func, Q, TextField, Value
from django.db.models.functions import Greatest

from shiporskip.catalog.models import Tool

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _PanelScore(TypedDict):
    panel_score: float | None  # ToolQuerySet.with_score()


MAX_QUERY = 200  # characters: longer is refused by the pages and the API, cut short here
MAX_TERMS = 8  # words a query is cut to: more only slows the match
CANDIDATES = 100  # hits ordered in Python at most: the database's best by its own rank
SIMILAR = 0.3  # trigram similarity a near spelling needs (pg_trgm's own default threshold)
NAMES_KEY, NAMES_SECONDS = "search-names", 60  # the typo list, per process: see names()
WORD = re.compile(r"[^\W_]+")  # letters and digits: what both databases' tokenizers keep
FTS_TABLE = "catalog_tool_fts"


class QueryTooLong(ValueError):
    pass


def check(query: str) -> str:
    """The query, stripped, or QueryTooLong with the reason (pages answer 400 with it)."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY:
        raise QueryTooLong(f"A search can be at most {MAX_QUERY} characters long; this one has {len(query)}.")
    return query


def words(text: str) -> list[str]:
    # Accents off, as FTS5's remove_diacritics does: "Ollamá" is "ollama".
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or "").casefold())
    return WORD.findall("".join(ch for ch in text if not unicodedata.combining(ch)))


def terms(query: str) -> list[str]:
    return words(query[:MAX_QUERY])[:MAX_TERMS]


def prefix(term: str) -> str:
    """What a query word is matched as a prefix of: a plural loses its "s", so "agents" finds
    "agent" (neither database stems: the prefix does it, the same way on both)."""
    return term[:-1] if len(term) > 3 and term.endswith("s") else term


@dataclass
class Candidate:
    pk: int
    name: str
    vendor: str
    category: str
    rank: float = 0.0  # the database's full-text rank, higher is better; 0 for a typo match
    text_hit: bool = False  # matched by full-text search (else only by a near spelling)
    similarity: float = 0.0


def search(query: str, limit: int = 10) -> list[Tool]:
    """The tools that match `query`, best first, at most `limit`, with their tallies.

    Each tool carries `with_tallies()` and `panel_score` (the current panel's mean score).
    """
    found = terms(query)
    if not found or limit < 1:
        return []
    if connection.vendor == "postgresql":
        candidates = _postgresql_candidates(found)
    else:
        candidates = _sqlite_candidates(found)
    if not candidates:
        return []
    tools = Tool.objects.with_tallies().with_score().in_bulk([c.pk for c in candidates])
    ordered = sorted(
        (c for c in candidates if c.pk in tools), key=lambda c: _order_key(c, found, tools[c.pk])
    )
    return [tools[c.pk] for c in ordered[:limit]]


# --- Order ------------------------------------------------------------------------------------


def _matches(term: str, field_words: list[str]) -> bool:
    """A query word matches a word it begins (typing), or a plural of it ("agents": "agent")."""
    stem = term[:-1] if len(term) > 3 and term.endswith("s") else term
    return any(w.startswith(term) or w == stem for w in field_words)


def _order_key(c: Candidate, found: list[str], tool: "WithAnnotations[Tool, _PanelScore]"):
    # The tool's own fields, just read: a cached candidate's may be a minute old.
    name = words(tool.name)
    compact_query, compact_name = "".join(found), "".join(name)
    # "llamacpp" and "llama cpp" name llama.cpp as surely as "llama.cpp" does.
    prefix = compact_name.startswith(compact_query)
    if prefix or all(_matches(t, name) for t in found):
        if compact_query == compact_name:
            closeness = 0
        elif name[: len(found)] == found:  # "code" -> Code Llama 4
            closeness = 1
        elif set(found) <= set(name):  # "code" -> Claude Code
            closeness = 2
        else:  # "code" -> Codestral; "llama" -> LlamaIndex
            closeness = 3 if prefix else 4
        return (0, closeness, len(compact_name), tool.name)
    vendor, category = words(tool.vendor), words(tool.category.name)
    if all(_matches(t, name + vendor + category) for t in found):
        # A vendor's or a category's tools: those that also match by name first ("LLM APIs"),
        # then the panel's best, then by name.
        in_name = sum(_matches(t, name) for t in found)
        by_vendor = all(_matches(t, name + vendor) for t in found)
        score = tool.panel_score if tool.panel_score is not None else -1
        return (1, not by_vendor, -in_name, -score, tool.name)
    if c.text_hit:
        return (2, -c.rank, tool.name)
    return (3, -c.similarity, tool.name)


# --- PostgreSQL -------------------------------------------------------------------------------


def _plain(field: str):
    # Punctuation becomes a space, as FTS5's tokenizer and words() do: "llama.cpp" is two words
    # (PostgreSQL's parser would keep it as one file-name token that "cpp" never matches).
    return Func(
        F(field),
        Value(r"[^[:alnum:]]+"),
        Value(" "),
        Value("g"),
        function="regexp_replace",
        output_field=TextField(),
    )


def _postgresql_candidates(found: list[str]) -> list[Candidate]:
    from django.contrib.postgres import search as pg

    # "simple": no stop words (typing "t" finds Tabnine) and no stemming, as FTS5's unicode61;
    # plurals are met by prefix() instead, the same on both databases.
    config = "simple"
    vector = (
        pg.SearchVector(_plain("name"), weight="A", config=config)
        + pg.SearchVector(_plain("vendor"), _plain("category__name"), weight="B", config=config)
        + pg.SearchVector(_plain("best_for"), weight="C", config=config)
        + pg.SearchVector(_plain("description"), weight="D", config=config)
    )
    # Each word a quoted prefix lexeme; words are letters and digits only, quotes doubled anyway.
    raw = " & ".join("'{}':*".format(prefix(t).replace("'", "''")) for t in found)
    tsquery = pg.SearchQuery(raw, search_type="raw", config=config)
    spelled = " ".join(found)
    rows = (
        Tool.objects.annotate(
            document=vector,
            rank=pg.SearchRank(vector, tsquery),
            similarity=Greatest(
                pg.TrigramSimilarity("name", spelled),
                pg.TrigramWordSimilarity(spelled, "name"),
                pg.TrigramSimilarity("vendor", spelled),
                pg.TrigramWordSimilarity(spelled, "vendor"),
            ),
        )
        .filter(Q(document=tsquery) | Q(similarity__gte=SIMILAR))
        .order_by("-rank", "-similarity", "name")
        .values_list("pk", "name", "vendor", "category__name", "rank", "similarity")[:CANDIDATES]
    )
    return [
        Candidate(pk, name, vendor, category, rank=rank, similarity=similarity, text_hit=rank > 0)
        for pk, name, vendor, category, rank, similarity in rows
    ]


# --- SQLite -----------------------------------------------------------------------------------


def fts_match(found: list[str]) -> str:
    """An FTS5 MATCH string: each word a quoted string (quotes doubled) taken as a prefix."""
    return " ".join('"{}"*'.format(prefix(t).replace('"', '""')) for t in found)


def _sqlite_candidates(found: list[str]) -> list[Candidate]:
    with connection.cursor() as cursor:
        # bm25 is lower for better matches; the weights favour name, then vendor and category.
        cursor.execute(
            "SELECT rowid, -bm25(catalog_tool_fts, 10.0, 4.0, 4.0, 2.0, 1.0) AS rank "
            "FROM catalog_tool_fts WHERE catalog_tool_fts MATCH %s ORDER BY rank DESC LIMIT %s",
            [fts_match(found), CANDIDATES],
        )
        ranks = dict(cursor.fetchall())
    spelled = " ".join(found)
    candidates = {
        pk: Candidate(pk, "", "", "", rank=rank, text_hit=True) for pk, rank in ranks.items()
    }  # a tool newer than the cached list included
    similar = []
    for pk, name, vendor, category in names():
        similarity = max(_similarity(spelled, name), _similarity(spelled, vendor))
        if pk in candidates:
            candidates[pk].similarity = similarity
        elif similarity >= SIMILAR:
            similar.append(Candidate(pk, name, vendor, category, similarity=similarity))
    # The nearest spellings only, as many as the full-text hits at most (PostgreSQL's query has
    # the same bound): a large catalog has thousands of near names, and every candidate is
    # fetched and ordered here.
    similar.sort(key=lambda c: (-c.similarity, c.name))
    return [*candidates.values(), *similar[:CANDIDATES]]


def names() -> list[tuple[int, str, str, str]]:
    """Every tool's id, name, vendor and category name, cached for a minute in this process.

    A save or delete here clears it (see `forget_names`); a change made by another process (a
    `catalog load` from the command line) reaches this process's typo matching within a minute.
    Full-text hits never wait: the FTS5 table is kept in step by triggers.
    """
    listed = cache.get_or_set(
        NAMES_KEY,
        lambda: list(Tool.objects.values_list("pk", "name", "vendor", "category__name")),
        NAMES_SECONDS,
    )
    assert listed is not None  # a miss stores and returns the list just made
    return listed


def forget_names(**kwargs) -> None:
    cache.delete(NAMES_KEY)


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: each word padded with two spaces before and one after."""
    grams: set[str] = set()
    for word in words(text):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def _similarity(query: str, text: str) -> float:
    """The best of pg_trgm's similarity against the whole text and against each of its words
    (close to what `Greatest(TrigramSimilarity, TrigramWordSimilarity)` gives on PostgreSQL)."""
    best = 0.0
    wanted = trigrams(query)
    if not wanted:
        return best
    for part in [text, *words(text)]:
        grams = trigrams(part)
        if grams:
            best = max(best, len(wanted & grams) / len(wanted | grams))
    return best


# --- The FTS5 index (SQLite) ------------------------------------------------------------------
# Plain SQL with the names written out: nothing here is ever built from input.

CREATE_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS catalog_tool_fts USING fts5(name, vendor, category, "
    "best_for, description, tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
)
TRIGGERS = {
    "catalog_tool_fts_insert": (
        "AFTER INSERT ON catalog_tool BEGIN "
        "INSERT INTO catalog_tool_fts(rowid, name, vendor, category, best_for, description) "
        "VALUES (new.id, new.name, new.vendor, "
        "(SELECT name FROM catalog_category WHERE id = new.category_id), new.best_for, "
        "new.description); END"
    ),
    # Only the searched columns: the panel's updates of current_run leave the index alone.
    "catalog_tool_fts_update": (
        "AFTER UPDATE OF name, vendor, category_id, best_for, description ON catalog_tool BEGIN "
        "DELETE FROM catalog_tool_fts WHERE rowid = old.id; "
        "INSERT INTO catalog_tool_fts(rowid, name, vendor, category, best_for, description) "
        "VALUES (new.id, new.name, new.vendor, "
        "(SELECT name FROM catalog_category WHERE id = new.category_id), new.best_for, "
        "new.description); END"
    ),
    "catalog_tool_fts_delete": (
        "AFTER DELETE ON catalog_tool BEGIN DELETE FROM catalog_tool_fts WHERE rowid = old.id; END"
    ),
    "catalog_tool_fts_category": (
        "AFTER UPDATE OF name ON catalog_category BEGIN UPDATE catalog_tool_fts "
        "SET category = new.name WHERE rowid IN "
        "(SELECT id FROM catalog_tool WHERE category_id = new.id); END"
    ),
}


def ensure_index(using_connection) -> bool:
    """Create the FTS5 table and its triggers where missing, and then fill it; SQLite only.

    Run by the migration, and after every migrate: SQLite's way of altering a table (copy it,
    drop the old one, rename) drops that table's triggers, so a later migration of `Tool`
    would otherwise leave the index silently behind. Returns whether it (re)built the index.
    """
    if using_connection.vendor != "sqlite":
        return False
    with using_connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
            "AND name LIKE 'catalog_tool_fts%'"
        )
        present = {row[0] for row in cursor.fetchall()}
        if not {FTS_TABLE, *TRIGGERS} - present:
            return False
        cursor.execute(CREATE_TABLE)
        for name, body in TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")  # noqa: S608 - constants
        rebuild(using_connection)
    return True


def rebuild(using_connection) -> None:
    """Fill the FTS5 table afresh from catalog_tool (SQLite only)."""
    with using_connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_tool_fts")
        cursor.execute(
            "INSERT INTO catalog_tool_fts(rowid, name, vendor, category, best_for, description) "
            "SELECT t.id, t.name, t.vendor, c.name, t.best_for, t.description "
            "FROM catalog_tool t JOIN catalog_category c ON c.id = t.category_id"
        )


def drop_index(using_connection) -> None:
    if using_connection.vendor != "sqlite":
        return
    with using_connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute("DROP TABLE IF EXISTS catalog_tool_fts")
