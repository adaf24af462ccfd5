"""The list of every tool: its filters and sorts, said once, in words and in the database.

`/tools`, the category rankings and `GET /api/tools` all read a reader's choice with
`parse()` and get their tools from `tools()` (the pages through `Listing`, which picks a page
by its keys alone). Every filter and sort reads a stored column: the tallies, and the keys the
database derives from the facts (`KEYS`, migration 0008_lists_sort_keys), each sort but
community's matching an index. So a page costs the same few queries, and about the same time,
whether the catalog holds 58 tools or 10,000, and no list is ever sorted in Python.

What the filters mean, from the facts (catalog/facts.py, evidence.py):
- open weights, self-hostable: the fact `open_weights` / `self_hostable`, yes or no; a tool
  whose fact is not known is in neither.
- free tier: the price evidence's `free_tier` (sourced and dated), yes or no; unknown in neither.
- price band: the cheapest paid seat a month in US dollars (`price.seat_monthly`): free (0),
  under $20, $20 to $100, over $100; a tool with no seat price but both token prices is
  "per token". A tool with no price in numbers (or in another currency) is in no band: unknown
  stays unknown.
- panel verdict: the current panel's majority (the same rule as `PanelTally.verdict`): ship,
  skip, split (as many of each), or none (not reviewed yet, or every persona abstained).
"""

import functools
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Case, Expression, F, FloatField, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce

from shiporskip.catalog.models import ROW_UNSHOWN, Category, Tool
from shiporskip.links import slug_urls

YES_NO = {"yes": "Yes", "no": "No"}
VERDICTS = {"ship": "Ship", "skip": "Skip", "split": "Split", "none": "No verdict yet"}
PRICE_BANDS = {
    "free": "Free",
    "under-20": "Under $20 a month",
    "20-100": "$20 to $100 a month",
    "over-100": "Over $100 a month",
    "per-token": "Per token (APIs)",
}
SORTS = {
    "panel": "Panel score",
    "community": "Community",
    "price": "Price",
    "newest": "Newest",
    "name": "Name",
}
# How each sort orders, in words: shown on the page and in the API docs.
SORT_RULES = {
    "panel": "the panel's mean score, highest first; ties by more ships, then fewer skips; "
    "tools with no panel score (not reviewed, or every persona abstained) last",
    "community": "ship votes minus skip votes, highest first; ties by more votes; "
    "tools with no votes after those with votes",
    "price": "free first, then by the cheapest seat a month, then per-token APIs by their "
    "blended price (3 input : 1 output tokens); tools with no price on record last",
    "newest": "year of first release, newest first (unknown last), then most recently added",
    "name": "alphabetical",
}


@dataclass(frozen=True)
class Filter:
    key: str  # the query parameter
    label: str
    choices: dict[str, str]  # value -> label; the category filter's are the catalog's own


FILTERS = [
    Filter("category", "Category", {}),
    Filter("verdict", "Panel verdict", VERDICTS),
    Filter("price", "Price band", PRICE_BANDS),
    Filter("open_weights", "Open weights", YES_NO),
    Filter("self_hostable", "Self-hostable", YES_NO),
    Filter("free_tier", "Free tier", YES_NO),
]
FILTER_KEYS = [f.key for f in FILTERS]
PER_PAGE = 24


class BadListing(ValueError):
    """A filter, sort or page the list cannot honour; the message says which and why."""


@dataclass(frozen=True)
class Choice:
    """What the reader asked for: filters (key -> value), a sort and a page."""

    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "panel"
    page: int = 1
    default_sort: str = "panel"

    def query(self, **changes) -> str:
        """The query string for this choice with `changes` applied (None drops a key);
        the page is dropped unless given, so a new filter or sort starts at page 1."""
        params = {**self.filters, "sort": self.sort, "page": None, **changes}
        if params.get("sort") == self.default_sort:
            params["sort"] = None
        if params.get("page") == 1:
            params["page"] = None
        ordered = [(k, params[k]) for k in [*FILTER_KEYS, "sort", "page"] if params.get(k) is not None]
        return "?" + urlencode(ordered) if ordered else ""

    def toggle(self, key: str, value: str) -> str:
        """The link that turns filter `key=value` on, or off if it is on."""
        return self.query(**{key: None if self.filters.get(key) == value else value})


def parse(params, *, categories, default_sort: str = "panel", fixed: tuple = ()) -> Choice:
    """Read filters, sort and page from a query dict; raise BadListing naming a bad value.

    `categories` are the known category slugs; `fixed` names filters the page sets itself
    (a category page's category), which a query may not set. Empty values mean "not set"
    (what a GET form sends for an unchosen field); parameters not ours are ignored.
    """
    filters = {}
    for f in FILTERS:
        value = params.get(f.key, "")
        if not value:
            continue
        if f.key in fixed:
            raise BadListing(f"This page sets {f.label.lower()} itself; leave out “{f.key}”.")
        known = categories if f.key == "category" else f.choices
        if value not in known:
            raise BadListing(
                f"{f.label} “{value}” is not one we know: use one of "
                f"{', '.join(sorted(known)) if f.key == 'category' else ', '.join(known)}."
            )
        filters[f.key] = value
    sort = params.get("sort", "") or default_sort
    if sort not in SORTS:
        raise BadListing(f"Sort “{sort}” is not one we know: use one of {', '.join(SORTS)}.")
    raw_page = params.get("page", "") or "1"
    if not raw_page.isascii() or not raw_page.isdigit() or int(raw_page) < 1 or len(raw_page) > 9:
        raise BadListing(f"Page “{raw_page}” is not a page number: use 1, 2, 3 ...")
    return Choice(filters, sort, int(raw_page), default_sort)


class Stored(Expression):
    """A column of catalog_tool that the model does not declare: the generated sort and filter
    keys (migration 0008_lists_sort_keys), which the database derives from the facts."""

    def __init__(self, column: str, output_field):
        super().__init__(output_field=output_field)
        self.column = column

    def as_sql(self, compiler, connection):
        # The query's own tool table, under whatever alias a subquery gives it.
        table = compiler.quote_name_unless_alias(compiler.query.base_table)
        return f"{table}.{connection.ops.quote_name(self.column)}", []

    def get_group_by_cols(self):
        return [self]


# The generated columns: negated where the sort is ascending (see the migration).
KEYS = {
    "list_price_order": IntegerField(),  # minus the price band's rank (BAND_RANK); NULL: no band
    "list_seat_order": FloatField(),  # minus the cheapest seat a month
    "list_token_order": FloatField(),  # minus the blended million tokens (3 input : 1 output)
    "list_release_year": IntegerField(),
    "list_open_weights": IntegerField(),  # 1 yes, 0 no, NULL unknown
    "list_self_hostable": IntegerField(),
    "list_free_tier": IntegerField(),
}
BAND_RANK = {band: i for i, band in enumerate(PRICE_BANDS)}


def keyed(queryset=None):
    """Tools with the stored sort and filter keys aliased (read only where a filter or sort asks)."""
    qs = queryset if queryset is not None else Tool.objects.all()
    return qs.alias(**{name: Stored(name, field) for name, field in KEYS.items()})


def annotated(queryset=None):
    """Tools with both tallies and every rank the page shows (one query)."""
    return (
        keyed((queryset if queryset is not None else Tool.objects.all()).with_tallies().with_score())
        .annotate(
            community_votes=F("vote_ship") + F("vote_skip"),
            price_rank=-F("list_price_order"),
            release_year=F("list_release_year"),
        )
        .annotate(
            # None without votes: no votes is not a net of zero, and ranks after every voted tool.
            community_net=Case(
                When(community_votes__gt=0, then=F("vote_ship") - F("vote_skip")),
                default=None,
                output_field=IntegerField(),
            ),
            price_band=Case(*[When(price_rank=rank, then=Value(band)) for band, rank in BAND_RANK.items()]),
        )
    )


def rows(pks: list[int]) -> list[Tool]:
    """The tools with these pks, in that order (a pk with no tool is left out), as a list row
    shows them: every field but the long ones (ROW_UNSHOWN) and the category, with every
    value `annotated()` adds. One plain statement: for a page of 50, compiling annotated()'s
    query through the ORM cost three times what running it and building the rows did."""
    if not pks:
        return []
    sql = rows_sql(connection.vendor, len(pks))
    found = {}
    for tool in Tool.objects.raw(sql, [*BAND_RANK, *pks]):
        columns = vars(tool)  # the category's columns, taken off the tool into its category
        tool.category = Category(**{name: columns.pop(f"row_category_{name}") for name in CATEGORY_COLUMNS})
        found[tool.pk] = tool
    return [found[pk] for pk in pks if pk in found]


CATEGORY_COLUMNS = ["id", "name", "slug", "description"]  # what a row shows of its category


@functools.cache
def rows_sql(vendor: str, count: int) -> str:
    """rows()' statement for `count` tools, built once per process for each count (`vendor`:
    the text is per database). The same values as annotated()'s, from the same columns; its
    parameters are the price bands, in BAND_RANK's order, then the pks."""
    q = connection.ops.quote_name
    shown = ", ".join(
        f"t.{q(str(f.column))}" for f in Tool._meta.concrete_fields if f.name not in ROW_UNSHOWN
    )
    ship, skip = "COALESCE(v.ship, 0)", "COALESCE(v.skip, 0)"
    bands = " ".join(f"WHEN t.list_price_order = {-rank} THEN %s" for rank in BAND_RANK.values())
    category = ", ".join(f"c.{q(name)} AS row_category_{name}" for name in CATEGORY_COLUMNS)
    return (
        f"SELECT {shown}, t.panel_ship AS ship_count, t.panel_skip AS skip_count, "  # noqa: S608 - names
        f"{ship} AS vote_ship, {skip} AS vote_skip, t.panel_mean AS panel_score, "
        f"{ship} + {skip} AS community_votes, -t.list_price_order AS price_rank, "
        "t.list_release_year AS release_year, "
        f"CASE WHEN {ship} + {skip} > 0 THEN {ship} - {skip} END AS community_net, "
        f"CASE {bands} END AS price_band, {category} "
        "FROM catalog_tool t LEFT JOIN community_toolvotes v ON v.tool_id = t.id "
        "JOIN catalog_category c ON c.id = t.category_id "
        f"WHERE t.id IN ({', '.join(['%s'] * count)})"
    )


def filtered(qs, filters: dict[str, str]):
    """Apply the filters, each a stored column: the panel's tally and the facts' keys."""
    if category := filters.get("category"):
        qs = qs.filter(category__slug=category)
    if verdict := filters.get("verdict"):
        qs = qs.filter(
            {
                "ship": Q(panel_ship__gt=F("panel_skip")),
                "skip": Q(panel_skip__gt=F("panel_ship")),
                "split": Q(panel_ship=F("panel_skip"), panel_ship__gt=0),
                "none": Q(panel_ship=0, panel_skip=0),
            }[verdict]
        )
    if band := filters.get("price"):
        qs = qs.filter(list_price_order=-BAND_RANK[band])
    for key in ("open_weights", "self_hostable", "free_tier"):
        if value := filters.get(key):
            qs = qs.filter(**{f"list_{key}": int(value == "yes")})
    return qs


PRICE_ORDER = ["list_price_order", "list_seat_order", "list_token_order"]


def ordered(qs, sort: str):
    """The sort's ORDER BY, each ending in name and id; all but community's match an index
    (catalog/tally_triggers.py, migration 0008_lists_sort_keys), so a page is read, not sorted."""
    last = {"nulls_last": True}
    if sort == "community":  # the votes are another table's: this one sorts the matching tools
        ship, skip = Coalesce(F("vote_tally__ship"), 0), Coalesce(F("vote_tally__skip"), 0)
        qs = qs.alias(
            _votes=ship + skip,
            _net=Case(When(_votes__gt=0, then=ship - skip), default=None, output_field=IntegerField()),
        )
    return qs.order_by(
        *{
            "panel": [F("panel_mean").desc(**last), F("panel_ship").desc(), F("panel_skip").asc()],
            "community": [F("_net").desc(**last), F("_votes").desc()],
            # Ascending, nulls last: the negated keys descending.
            "price": [F(key).desc(**last) for key in PRICE_ORDER],
            "newest": [F("list_release_year").desc(**last), F("created_at").desc()],
            "name": [],
        }[sort],
        "name",
        "pk",
    )


def tools(choice: Choice, queryset=None):
    """The tools the choice asks for, filtered and in its order (a lazy queryset)."""
    return ordered(filtered(annotated(queryset), choice.filters), choice.sort)


class Listing:
    """The tools the choice asks for, as a paginator's list: the count in one query that reads
    only the stored keys, whatever the catalog's size, and each page in two.

    A page's tools are picked by their keys alone (an index read for every sort but
    community's, a sort of narrow rows for that one), then only those are read, by `rows()`.
    """

    ordered = True  # for the paginator

    def __init__(self, choice: Choice, queryset=None):
        self.choice = choice
        self.queryset = queryset if queryset is not None else Tool.objects.all()

    def count(self) -> int:
        return filtered(keyed(self.queryset), self.choice.filters).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list:
        picked = ordered(filtered(keyed(self.queryset), self.choice.filters), self.choice.sort)
        return rows(list(picked.values_list("pk", flat=True)[window]))


def rank_key(tool, sort: str):
    """The value a tool is ranked by; None when it has none (it is listed, unranked, last)."""
    return {
        "panel": getattr(tool, "panel_score", None),
        "community": getattr(tool, "community_net", None),
        "price": getattr(tool, "price_rank", None),
        "newest": getattr(tool, "release_year", None),
        "name": tool.name,
    }[sort]


@dataclass(frozen=True)
class Link:
    label: str
    url: str  # a query string, "?..." (the page's own path is implied)
    active: bool = False


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    options: list[Link]


def controls(choice: Choice, categories, *, fixed: tuple = ()) -> dict:
    """Every filter option, active filter and sort as a link: the page needs no JavaScript."""
    names = {c.slug: c.name for c in categories}
    words = {f.key: names if f.key == "category" else f.choices for f in FILTERS}
    groups = [
        Group(
            f.key,
            f.label,
            [
                Link(label, choice.toggle(f.key, value), choice.filters.get(f.key) == value)
                for value, label in words[f.key].items()
            ],
        )
        for f in FILTERS
        if f.key not in fixed
    ]
    labels = {f.key: f.label for f in FILTERS}
    active = [
        Link(f"{labels[key]}: {words[key].get(value, value)}", choice.query(**{key: None}), True)
        for key, value in choice.filters.items()
        if key not in fixed
    ]
    sorts = [Link(label, choice.query(sort=key), choice.sort == key) for key, label in SORTS.items()]
    return {
        "groups": groups,
        "active": active,
        "sorts": sorts,
        "clear": choice.query(**{key: None for key in FILTER_KEYS}),
        "sort_rule": SORT_RULES[choice.sort],
        "sort_label": SORTS[choice.sort],
        "show_year": choice.sort == "newest",
    }


def ranked(page, sort: str) -> list[dict]:
    """The page's tools with their rank (position in the whole list), price band's words,
    panel tally and links.

    A tool with nothing to rank it by (no panel score, no votes, no price, no release year)
    is listed after the ranked ones without a number of its own.
    """
    tool_url, category_url = slug_urls("catalog:tool"), slug_urls("catalog:category")
    rows = []
    for i, tool in enumerate(page.object_list, start=page.start_index()):
        has_key = sort == "name" or rank_key(tool, sort) is not None
        rows.append(
            {
                "tool": tool,
                "rank": i if has_key else None,
                "band": PRICE_BANDS.get(getattr(tool, "price_band", None) or ""),
                "panel": tool.panel,
                "url": tool_url(tool.slug),
                "category_url": category_url(tool.category.slug),
            }
        )
    return rows
