"""The list of every tool: its filters and sorts, said once, in words and in the database.

`/tools`, the category rankings and `GET /api/tools` all read a reader's choice with
`parse()` and get their tools from `tools()`. Every filter and sort is an SQL expression over
the stored facts and tallies, so a page costs the same few queries whether the catalog holds
58 tools or 10,000, and no list is ever sorted in Python.

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

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Case, F, FloatField, Func, IntegerField, Q, Value, When

from shiporskip.catalog.models import Tool

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


class FactNumber(Func):
    """The number at `path` in a tool's facts; NULL when the key is missing or null.

    Not Django's KT(): on SQLite it reads a JSON null as the text 'null', which CAST turns
    into 0, so a tool with no seat price would land in the "free" band.
    """

    def __init__(self, *path: str, output_field=None):
        self.path = path
        super().__init__(F("facts"), output_field=output_field or FloatField())

    def as_sqlite(self, compiler, connection, **extra):
        facts, params = compiler.compile(self.source_expressions[0])
        kind = "INTEGER" if isinstance(self.output_field, IntegerField) else "REAL"
        return f"CAST(JSON_EXTRACT({facts}, %s) AS {kind})", (*params, "$." + ".".join(self.path))

    def as_postgresql(self, compiler, connection, **extra):
        facts, params = compiler.compile(self.source_expressions[0])
        kind = "integer" if isinstance(self.output_field, IntegerField) else "double precision"
        return f"(({facts} #>> %s)::{kind})", (*params, list(self.path))

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError("Ship or Skip runs on SQLite or PostgreSQL")


def seat_price():
    return FactNumber("price", "seat_monthly")


def token_price():
    """A blended million tokens, 3 input to 1 output (the rule rivals.price_point uses)."""
    weighted = 3 * FactNumber("price", "input_per_mtok") + FactNumber("price", "output_per_mtok")
    return weighted / Value(4.0)


BAND_RANK = {band: i for i, band in enumerate(PRICE_BANDS)}


def annotated(queryset=None):
    """Tools with both tallies and every sort key, as SQL expressions (one query)."""
    qs = (queryset if queryset is not None else Tool.objects.all()).with_tallies()
    usd = Q(facts__price__currency="USD")
    bands = [
        ("free", Q(seat_price=0)),
        ("under-20", Q(seat_price__gt=0, seat_price__lt=20)),
        ("20-100", Q(seat_price__gte=20, seat_price__lte=100)),
        ("over-100", Q(seat_price__gt=100)),
        ("per-token", Q(seat_price__isnull=True, token_price__isnull=False)),
    ]
    return (
        qs.with_score()
        .annotate(
            community_votes=F("vote_ship") + F("vote_skip"),
            seat_price=seat_price(),
            token_price=token_price(),
            release_year=FactNumber("release_year", output_field=IntegerField()),
        )
        .annotate(
            # None without votes: no votes is not a net of zero, and ranks after every voted tool.
            community_net=Case(
                When(community_votes__gt=0, then=F("vote_ship") - F("vote_skip")),
                default=None,
                output_field=IntegerField(),
            ),
            price_band=Case(*[When(usd & rule, then=Value(band)) for band, rule in bands], default=None),
            price_rank=Case(
                *[When(usd & rule, then=Value(BAND_RANK[band])) for band, rule in bands],
                default=None,
                output_field=IntegerField(),
            ),
        )
    )


def _yes_no(fact: str, value: str) -> Q:
    return Q(**{fact: value == "yes"})


def filtered(qs, filters: dict[str, str]):
    """Apply the filters: facts in WHERE, the panel's majority in HAVING."""
    if category := filters.get("category"):
        qs = qs.filter(category__slug=category)
    if verdict := filters.get("verdict"):
        qs = qs.filter(
            {
                "ship": Q(ship_count__gt=F("skip_count")),
                "skip": Q(skip_count__gt=F("ship_count")),
                "split": Q(ship_count=F("skip_count"), ship_count__gt=0),
                "none": Q(ship_count=0, skip_count=0),
            }[verdict]
        )
    if band := filters.get("price"):
        qs = qs.filter(price_band=band)
    for key, fact in (
        ("open_weights", "facts__open_weights"),
        ("self_hostable", "facts__self_hostable"),
        ("free_tier", "facts__price__free_tier"),
    ):
        if value := filters.get(key):
            qs = qs.filter(_yes_no(fact, value))
    return qs


def ordered(qs, sort: str):
    last = {"nulls_last": True}
    return qs.order_by(
        *{
            "panel": [F("panel_score").desc(**last), F("ship_count").desc(), F("skip_count").asc()],
            "community": [F("community_net").desc(**last), F("community_votes").desc()],
            "price": [F("price_rank").asc(**last), F("seat_price").asc(**last), F("token_price").asc(**last)],
            "newest": [F("release_year").desc(**last), F("created_at").desc()],
            "name": [],
        }[sort],
        "name",
        "pk",
    )


def tools(choice: Choice, queryset=None):
    """The tools the choice asks for, filtered and in its order (a lazy queryset)."""
    return ordered(filtered(annotated(queryset), choice.filters), choice.sort)


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
    """The page's tools with their rank (position in the whole list) and price band's words.

    A tool with nothing to rank it by (no panel score, no votes, no price, no release year)
    is listed after the ranked ones without a number of its own.
    """
    rows = []
    for i, tool in enumerate(page.object_list, start=page.start_index()):
        has_key = sort == "name" or rank_key(tool, sort) is not None
        rows.append(
            {
                "tool": tool,
                "rank": i if has_key else None,
                "band": PRICE_BANDS.get(getattr(tool, "price_band", None) or ""),
            }
        )
    return rows
