"""Search the catalog: `search(query, limit)` returns tools, best match first.

Two steps, a constant number of queries whatever the catalog's size or the number of hits:

1. Candidates. The database's own full-text search over name, vendor, category name, best-for
   and description, each query word matched as a prefix (so suggestions work while typing):
   PostgreSQL's (a stored tsvector with its GIN index, kept by triggers, and `ts_rank`, with
   `pg_trgm` similarity over names and vendors, through their trigram indexes, in the same query
   for typos), or SQLite's FTS5
   (the `catalog_tool_fts` table, kept in step with `catalog_tool` by triggers, see
   `ensure_index()`), plus a trigram similarity over names and vendors for typos, from an
   inverted index kept in this process (`NameIndex`). Each candidate comes with what the order
   reads of it (name, vendor, category, score).
2. Order. Every candidate falls in a tier: every word in the name first, then in the name,
   vendor or category, then in the other text, then a near spelling of a name or vendor only.
   Within a tier the order is plain (see `_order_key`), so both databases agree on the first
   result for the same catalog. Only the tools shown are then fetched whole.

The reader's text never reaches a query as syntax: it is cut into words of letters and digits
only, and each word is quoted on top of that (FTS5's MATCH and PostgreSQL's tsquery both have
operators: `NEAR(`, `OR`, `*`, `:`, `!`, `&`).
"""

import heapq
import json
import re
import time
import unicodedata
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from shiporskip.catalog import listing
from shiporskip.catalog.models import Tool

MAX_QUERY = 200  # characters: longer is refused by the pages and the API, cut short here
MAX_TERMS = 8  # words a query is cut to: more only slows the match
CANDIDATES = 100  # hits ordered in Python at most: the database's best by its own rank
SIMILAR = 0.3  # trigram similarity a near spelling needs (pg_trgm's own default threshold)
NAMES_SECONDS = 60  # the typo index lives at most this long per process: see _names_index()
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
    text = text or ""
    if text.isascii():  # the same words, quicker: nothing to normalize in ASCII
        return WORD.findall(text.lower())
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
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
    category: str  # its name
    score: float | None  # the panel's mean score, as with_score() gives it
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
    # Each candidate comes with its fields as the database has them now: only the tools shown
    # are fetched whole (with their runs and tallies), however many candidates there were.
    ordered = sorted(candidates, key=lambda c: _order_key(c, found))[:limit]
    return listing.rows([c.pk for c in ordered])


# --- Order ------------------------------------------------------------------------------------


def _matches(term: str, field_words: list[str]) -> bool:
    """A query word matches a word it begins (typing), or a plural of it ("agents": "agent")."""
    stem = term[:-1] if len(term) > 3 and term.endswith("s") else term
    return any(w.startswith(term) or w == stem for w in field_words)


def _order_key(c: Candidate, found: list[str]):
    # The tool's own fields, read by the candidates' query (a typo index's may be a minute old).
    name = words(c.name)
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
        return (0, closeness, len(compact_name), c.name)
    vendor, category = words(c.vendor), words(c.category)
    if all(_matches(t, name + vendor + category) for t in found):
        # A vendor's or a category's tools: those that also match by name first ("LLM APIs"),
        # then the panel's best, then by name.
        in_name = sum(_matches(t, name) for t in found)
        by_vendor = all(_matches(t, name + vendor) for t in found)
        score = c.score if c.score is not None else -1
        return (1, not by_vendor, -in_name, -score, c.name)
    if c.text_hit:
        return (2, -c.rank, c.name)
    return (3, -c.similarity, c.name)


# --- PostgreSQL -------------------------------------------------------------------------------


# The thresholds of pg_trgm's `%` and `%>` operators, set for each connection as it opens (the
# default word threshold, 0.6, would miss near spellings): a little under SIMILAR, so that the
# operators find a superset of the rows whatever their rounding, and the exact condition decides.
INDEX_SIMILAR = SIMILAR - 0.01
TRIGRAM_THRESHOLDS = (
    "SELECT set_config('pg_trgm.similarity_threshold', %s::text, false), "
    "set_config('pg_trgm.word_similarity_threshold', %s::text, false)"
)


def set_trigram_thresholds(sender, connection, **kwargs) -> None:
    """On a new PostgreSQL connection (the `connection_created` signal): the operators' thresholds."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(TRIGRAM_THRESHOLDS, [INDEX_SIMILAR, INDEX_SIMILAR])


def _postgresql_candidates(found: list[str]) -> list[Candidate]:
    # Each word a quoted prefix lexeme; words are letters and digits only, quotes doubled anyway.
    raw = " & ".join("'{}':*".format(prefix(t).replace("'", "''")) for t in found)
    params: dict[str, str | int | float] = {
        "raw": raw,
        "spelled": " ".join(found),
        "last": CANDIDATES - 1,
        "count": CANDIDATES,
        "similar": SIMILAR,
    }
    with connection.cursor() as cursor:
        cursor.execute(POSTGRESQL_CANDIDATES, params)
        rows = cursor.fetchall()
    return [
        Candidate(pk, name, vendor, category, score, rank=rank, similarity=similarity, text_hit=rank > 0)
        for pk, name, vendor, category, score, rank, similarity, _hit in rows
    ]


_SIMILARITY = (
    "GREATEST(similarity(t.name, %(spelled)s), word_similarity(%(spelled)s, t.name), "
    "similarity(t.vendor, %(spelled)s), word_similarity(%(spelled)s, t.vendor))"
)
# The best CANDIDATES by full-text rank, then similarity, then name, of the tools whose stored
# document matches (its GIN index) or whose name or vendor is a near spelling. Said so that
# neither kind costs a computation per tool:
# - the similarities are computed only for the rows that can be in the answer: the full-text
#   hits ranked at or above the CANDIDATES-th hit's rank (its ties included), and near
#   spellings only when there are fewer hits than that (a hit ranks above any of them);
# - near spellings are found through the trigram indexes on name and vendor (`%` similarity,
#   `%>` word similarity, against the thresholds `set_trigram_thresholds` sets), and the
#   exact condition then decides.
# Before, "code" (a prefix of words in 3,800 of 10,000 tools) computed four similarities for
# every tool and took 140 ms; a typo, 70 ms. The answer is the same as that query's, rank
# included: ts_rank gives 1e-20, not 0, to a document that matches some of the words only,
# and the order (and `text_hit`, rank > 0) has read it so; the near spellings keep it.
POSTGRESQL_CANDIDATES = f"""
WITH q AS (SELECT to_tsquery('simple'::regconfig, %(raw)s) AS query),
hits AS (
    SELECT t.id, ts_rank(t.search_document, q.query) AS rank
    FROM catalog_tool t, q WHERE t.search_document @@ q.query
),
cut AS (SELECT rank FROM hits ORDER BY rank DESC OFFSET %(last)s LIMIT 1),
near AS (
    SELECT t.id, ts_rank(t.search_document, q.query) AS rank FROM catalog_tool t, q
    WHERE NOT coalesce(t.search_document @@ q.query, false)
    AND (t.name %% %(spelled)s OR t.name %%> %(spelled)s
         OR t.vendor %% %(spelled)s OR t.vendor %%> %(spelled)s)
    AND (SELECT count(*) FROM (SELECT 1 FROM hits LIMIT %(count)s) few) < %(count)s
),
picked AS (
    SELECT id, rank, true AS hit FROM hits WHERE rank >= coalesce((SELECT rank FROM cut), 0)
    UNION ALL SELECT id, rank, false FROM near
)
SELECT t.id, t.name, t.vendor, c.name, t.panel_mean, p.rank, {_SIMILARITY} AS similarity, p.hit
FROM picked p JOIN catalog_tool t ON t.id = p.id JOIN catalog_category c ON c.id = t.category_id
WHERE p.hit OR {_SIMILARITY} >= %(similar)s
ORDER BY p.rank DESC, similarity DESC, t.name ASC
LIMIT %(count)s
"""  # noqa: S608 - put together from constants; the reader's words are bound


def _plain(column: str) -> str:
    # Punctuation becomes a space, as FTS5's tokenizer and words() do: "llama.cpp" is two words
    # (PostgreSQL's parser would keep it as one file-name token that "cpp" never matches).
    return f"COALESCE(regexp_replace({column}, '[^[:alnum:]]+', ' ', 'g'), '')"


# A tool's full-text document, weighted: name, then vendor and category, best-for, description.
# "simple": no stop words (typing "t" finds Tabnine) and no stemming, as FTS5's unicode61;
# plurals are met by prefix() instead, the same on both databases.
CATEGORY_NAME = "(SELECT name FROM catalog_category WHERE id = NEW.category_id)"
POSTGRESQL_DOCUMENT = (
    f"setweight(to_tsvector('simple', {_plain('NEW.name')}), 'A') || "
    f"setweight(to_tsvector('simple', {_plain('NEW.vendor')} || ' ' || "
    f"{_plain(CATEGORY_NAME)}), 'B') || "
    f"setweight(to_tsvector('simple', {_plain('NEW.best_for')}), 'C') || "
    f"setweight(to_tsvector('simple', {_plain('NEW.description')}), 'D')"
)
# Kept by the database, as SQLite's FTS5 table is by its triggers: a tool's own row on insert
# and on a change of what it says; its category's tools when the category is renamed (their
# category_id set to itself fires the first).
POSTGRESQL_CREATE = [
    "ALTER TABLE catalog_tool ADD COLUMN IF NOT EXISTS search_document tsvector",
    "CREATE OR REPLACE FUNCTION catalog_tool_search_document() RETURNS trigger LANGUAGE plpgsql "
    f"AS $$ BEGIN NEW.search_document := {POSTGRESQL_DOCUMENT}; RETURN NEW; END $$",
    "CREATE TRIGGER catalog_tool_search_insert BEFORE INSERT ON catalog_tool FOR EACH ROW "
    "EXECUTE FUNCTION catalog_tool_search_document()",
    "CREATE TRIGGER catalog_tool_search_update BEFORE UPDATE OF name, vendor, category_id, best_for, "
    "description ON catalog_tool FOR EACH ROW EXECUTE FUNCTION catalog_tool_search_document()",
    "CREATE OR REPLACE FUNCTION catalog_category_search_document() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN UPDATE catalog_tool SET category_id = category_id WHERE category_id = NEW.id; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER catalog_category_search_update AFTER UPDATE OF name ON catalog_category "
    "FOR EACH ROW WHEN (NEW.name IS DISTINCT FROM OLD.name) "
    "EXECUTE FUNCTION catalog_category_search_document()",
    "UPDATE catalog_tool SET category_id = category_id",  # the tools there already
    "CREATE INDEX IF NOT EXISTS catalog_tool_search_document ON catalog_tool USING gin (search_document)",
]
# What the typo condition reads (see _postgresql_candidates); migration 0012.
POSTGRESQL_TRIGRAM_CREATE = [
    "CREATE INDEX IF NOT EXISTS catalog_tool_name_trgm ON catalog_tool USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS catalog_tool_vendor_trgm ON catalog_tool USING gin (vendor gin_trgm_ops)",
]
POSTGRESQL_TRIGRAM_DROP = [
    "DROP INDEX IF EXISTS catalog_tool_name_trgm",
    "DROP INDEX IF EXISTS catalog_tool_vendor_trgm",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS catalog_category_search_update ON catalog_category",
    "DROP TRIGGER IF EXISTS catalog_tool_search_update ON catalog_tool",
    "DROP TRIGGER IF EXISTS catalog_tool_search_insert ON catalog_tool",
    "DROP FUNCTION IF EXISTS catalog_category_search_document()",
    "DROP FUNCTION IF EXISTS catalog_tool_search_document()",
    "ALTER TABLE catalog_tool DROP COLUMN IF EXISTS search_document",  # its index with it
]


def postgresql_trigram_indexes(using_connection, drop: bool = False) -> None:
    """Create (or drop) the trigram indexes on names and vendors; PostgreSQL only."""
    _on_postgresql(using_connection, POSTGRESQL_TRIGRAM_DROP if drop else POSTGRESQL_TRIGRAM_CREATE)


def postgresql_document(using_connection, drop: bool = False) -> None:
    """Create (or drop) the stored document, its triggers and its index; PostgreSQL only."""
    _on_postgresql(using_connection, POSTGRESQL_DROP if drop else POSTGRESQL_CREATE)


def _on_postgresql(using_connection, statements: list[str]) -> None:
    if using_connection.vendor != "postgresql":
        return
    with using_connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


# --- SQLite -----------------------------------------------------------------------------------


def fts_match(found: list[str]) -> str:
    """An FTS5 MATCH string: each word a quoted string (quotes doubled) taken as a prefix."""
    return " ".join('"{}"*'.format(prefix(t).replace('"', '""')) for t in found)


def _sqlite_candidates(found: list[str]) -> list[Candidate]:
    spelled = " ".join(found)
    before = _index
    index = _names_index()
    near = index.similar(spelled)  # row -> similarity, near spellings only
    # Enough of the nearest to leave CANDIDATES once the full-text hits are taken out.
    asked = [index.rows[row][0] for row in _nearest(index, near, list(near), 2 * CANDIDATES)]
    newest, fields = _sqlite_hits(found, asked)
    if newest is not None and newest != index.newest:  # tools added unseen: index them
        index = _names_index(newest)
        near = index.similar(spelled)
    if index is not before:  # built here: its rows are as fresh as the query's
        fields = {row[0]: (None, *row[1:]) for row in index.rows} | fields
    candidates = {
        pk: Candidate(pk, name, vendor, category, score, rank=rank, text_hit=True)
        for pk, (rank, name, vendor, category, score) in fields.items()
        if rank is not None
    }  # a tool newer than the typo index included
    others = []
    for row, similarity in near.items():
        pk = index.rows[row][0]
        if pk in candidates:
            candidates[pk].similarity = similarity  # the order reads it for typo matches only
        elif pk in fields:  # else deleted since
            others.append(row)
    # The nearest spellings only, as many as the full-text hits at most (PostgreSQL's query has
    # the same bound): a large catalog has thousands of near names.
    similar = []
    for row in _nearest(index, near, others, CANDIDATES):
        pk = index.rows[row][0]
        _rank, name, vendor, category, score = fields[pk]
        similar.append(Candidate(pk, name, vendor, category, score, similarity=near[row]))
    return [*candidates.values(), *similar]


def _nearest(index: "NameIndex", near: dict[int, float], rows: list[int], count: int) -> list[int]:
    """The `count` most similar of `rows`, then by name (names are unique: a total order)."""
    return heapq.nsmallest(count, rows, key=lambda row: (-near[row], index.rows[row][1]))


# One query: the newest tool's id (rowid NULL), which tells whether the typo index has missed
# tools added since (see _names_index); then the full-text hits with their rank (bm25 is lower
# for better matches; the weights favour name, then vendor and category), and the near
# spellings asked for (ids in a JSON array) with none, each with what the order reads of it.
CANDIDATES_SQL = (
    "SELECT NULL, MAX(id), NULL, NULL, NULL, NULL FROM catalog_tool UNION ALL "
    "SELECT t.id, w.rank, t.name, t.vendor, c.name, t.panel_mean FROM ("
    "SELECT id, MAX(rank) AS rank FROM (SELECT * FROM ("
    "SELECT rowid AS id, -bm25(catalog_tool_fts, 10.0, 4.0, 4.0, 2.0, 1.0) AS rank "
    "FROM catalog_tool_fts WHERE catalog_tool_fts MATCH %s ORDER BY rank DESC LIMIT %s"
    ") UNION ALL SELECT value, NULL FROM json_each(%s)) GROUP BY id"
    ") w JOIN catalog_tool t ON t.id = w.id JOIN catalog_category c ON c.id = t.category_id"
)


def _sqlite_hits(found: list[str], asked: list[int]) -> tuple[int | None, dict[int, tuple]]:
    """The catalog's highest id, and id -> (rank or None, name, vendor, category, score) of the
    full-text hits and of the `asked` ids."""
    with connection.cursor() as cursor:
        cursor.execute(CANDIDATES_SQL, [fts_match(found), CANDIDATES, json.dumps(asked)])
        rows = cursor.fetchall()
    newest = next(row[1] for row in rows if row[0] is None)
    return newest, {row[0]: row[1:] for row in rows if row[0] is not None}


def names() -> list[tuple[int, str, str, str, float | None]]:
    """Every tool's id, name, vendor, category name and score, as this process's typo index
    has them (as of its build)."""
    return _names_index().rows


def forget_names(**kwargs) -> None:
    """A save or delete here: the typo index is built afresh on the next search."""
    global _index
    _index = None


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: each word padded with two spaces before and one after."""
    grams: set[str] = set()
    for word in words(text):
        grams.update(_padded(word))
    return grams


def _padded(word: str) -> list[str]:
    padded = f"  {word} "
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


def _similarity(query: str, text: str) -> float:
    """The best of pg_trgm's similarity against the whole text and against each of its words
    (close to what `Greatest(TrigramSimilarity, TrigramWordSimilarity)` gives on PostgreSQL).

    The plain definition: `NameIndex.similar` gives the same numbers for a whole catalog at once.
    """
    best = 0.0
    wanted = trigrams(query)
    if not wanted:
        return best
    for part in [text, *words(text)]:
        grams = trigrams(part)
        if grams:
            best = max(best, len(wanted & grams) / len(wanted | grams))
    return best


# --- Typo matching (SQLite): an inverted trigram index, per process ---------------------------


class NameIndex:
    """Near spellings of every tool's name and vendor: the numbers `_similarity` gives, without
    a loop over the catalog.

    A text's similarity is the best of its whole trigram set's and each of its words' (see
    _similarity). Both come from the words: a trigram leads to the distinct words that have it,
    and each such word to the texts (names, vendors) that have the word. A text's trigrams are
    its words' together, so the query's trigrams a text shares are those its words share,
    gathered as bit masks (a trigram two of its words have is counted once). Distinct, because
    a large catalog repeats itself: 10,000 tools have some 40 vendors, and a word's trigrams are
    made once however many names share it.
    """

    def __init__(self, rows: list[tuple[int, str, str, str, float | None]], newest: int | None):
        self.rows, self.newest, self.built = rows, newest, time.monotonic()
        texts: dict[str, list[int]] = {}  # text -> the rows that have it as name or vendor
        for row, (_pk, name, vendor, *_order_fields) in enumerate(rows):
            texts.setdefault(name, []).append(row)
            if vendor != name:
                texts.setdefault(vendor, []).append(row)
        self.text_rows = list(texts.values())
        word_ids: dict[str, int] = {}
        padded: list[frozenset[str]] = []  # the word's share of its texts' whole trigram sets
        self.word_grams: list[frozenset[str]] = []  # trigrams(word): the word as a part
        text_words: list[list[int]] = []
        self.text_size: list[int] = []
        for text in texts:
            ids: list[int] = []
            for word in words(text):
                word_id = word_ids.get(word)
                if word_id is None:
                    word_id = word_ids[word] = len(padded)
                    padded.append(frozenset(_padded(word)))
                    # An ASCII word is its own words(), and so its own trigrams.
                    self.word_grams.append(padded[-1] if word.isascii() else frozenset(trigrams(word)))
                if word_id not in ids:  # "X copy 1 copy 2": each word once
                    ids.append(word_id)
            text_words.append(ids)
            self.text_size.append(len(set().union(*[padded[i] for i in ids])))
        self.padded_size = [len(g) for g in padded]
        self.word_size = [len(g) for g in self.word_grams]
        self.ascii = [w.isascii() for w in word_ids]
        # Each word's texts in the order of their sizes, so a query bisects out those too short
        # or too long to reach SIMILAR.
        self.word_texts: list[list[int]] = [[] for _ in padded]
        for text_id in sorted(range(len(text_words)), key=self.text_size.__getitem__):
            for word_id in text_words[text_id]:
                self.word_texts[word_id].append(text_id)
        self.gram_words: defaultdict[str, list[int]] = defaultdict(list)
        for word_id, grams in enumerate(padded):
            if grams is not self.word_grams[word_id]:
                grams = grams | self.word_grams[word_id]
            for gram in grams:
                self.gram_words[gram].append(word_id)

    def similar(self, query: str) -> dict[int, float]:
        """row -> the best similarity of `query` to its tool's name or vendor, >= SIMILAR only:
        the number `_similarity` gives."""
        wanted = trigrams(query)
        n = len(wanted)
        masks: dict[int, int] = {}  # word -> the query's trigrams it has, a bit each
        for bit, gram in enumerate(wanted):
            for word in self.gram_words.get(gram, ()):
                masks[word] = masks.get(word, 0) | 1 << bit
        # J = shared / (n + size - shared) <= min(n, size) / max(n, size): a text whose size
        # is outside [0.3 n, n / 0.3] never reaches SIMILAR (the bounds a little wider).
        low, high = (3 * n) // 10, (10 * n) // 3 + 1
        size = self.text_size.__getitem__
        shared: dict[int, int] = {}  # text -> the query's trigrams it has
        best: dict[int, float] = {}  # text -> its best similarity so far
        for word, mask in masks.items():
            texts = self.word_texts[word]
            for text in texts[bisect_left(texts, low, key=size) : bisect_right(texts, high, key=size)]:
                shared[text] = shared.get(text, 0) | mask
            part = self._word_similarity(word, mask, wanted)
            if part >= SIMILAR:
                for text in texts:
                    best[text] = max(best.get(text, 0.0), part)
        for text, mask in shared.items():
            count = mask.bit_count()
            whole = count / (n + self.text_size[text] - count)  # the same division as _similarity
            if whole >= SIMILAR and whole > best.get(text, 0.0):
                best[text] = whole
        rows: dict[int, float] = {}
        for text, similarity in best.items():
            for row in self.text_rows[text]:
                if similarity > rows.get(row, 0.0):
                    rows[row] = similarity
        return rows

    def _word_similarity(self, word: int, mask: int, wanted: set[str]) -> float:
        if self.ascii[word]:
            count = mask.bit_count()
            return count / (len(wanted) + self.word_size[word] - count)
        grams = self.word_grams[word]
        return len(wanted & grams) / len(wanted | grams) if grams else 0.0


_index: NameIndex | None = None


def _names_index(newest: int | None = None) -> NameIndex:
    """This process's typo index, built afresh when missing (forget_names: a save or delete
    here), older than NAMES_SECONDS (a change made by another process reaches this one within
    a minute), or when the catalog's highest id (`newest`) is not the one it knows: tools added
    without a signal, by another process or in bulk. Full-text hits never wait for it: the
    FTS5 table is kept in step by triggers.

    A rebuild is one query and some tens of ms at 10,000 tools; a search then takes about a
    millisecond of it.
    """
    global _index
    index = _index
    if (
        index is None
        or time.monotonic() - index.built > NAMES_SECONDS
        or (newest is not None and newest != index.newest)
    ):
        # Unordered: the database's sort by name costs more than the rest of the build. The
        # other fields are for the search that builds it (see _sqlite_candidates).
        rows = list(
            Tool.objects.order_by().values_list("pk", "name", "vendor", "category__name", "panel_mean")
        )
        index = _index = NameIndex(rows, max((r[0] for r in rows), default=None))
    return index


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
