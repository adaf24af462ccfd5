"""The JSON API: the data behind every page, read-only for now. Docs at /api/docs.

Every operation declares each answer it can give (tests/test_security_api.py holds the schema
to the answers with schemathesis): its 200 body, 404 where a slug can be unknown, and the
answers that come from in front of the view, shared by all of them (`ANSWERED_BEFORE`).
"""

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Path, Query, Schema
from ninja.errors import HttpError, ValidationError
from pydantic import WithJsonSchema

from shiporskip.catalog import listing
from shiporskip.catalog import search as catalog_search
from shiporskip.catalog.coverage import coverage
from shiporskip.catalog.facts import ToolFacts
from shiporskip.catalog.models import Category, Tool
from shiporskip.compare import comparison
from shiporskip.panel import history as verdict_history
from shiporskip.panel.models import Persona

api = NinjaAPI(
    title="Ship or Skip",
    version="1",
    description="Panel verdicts on AI tools, and any two tools side by side.",
)


class Error(Schema):
    detail: str


@api.exception_handler(ValidationError)
def bad_parameter(request, exc):
    """A query value of the wrong kind (a sort we do not have, a limit of 0): 400 saying which
    and why, as the pages answer, rather than ninja's 422 with a list of pydantic errors."""
    lines = [f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in exc.errors]
    return api.create_response(request, {"detail": "; ".join(lines)}, status=400)


def inlined(schema: dict) -> dict:
    """A model's JSON schema with its $defs put in place: OpenAPI has no room for $defs."""
    defs = schema.pop("$defs", {})

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: walk(v) for k, v in node.items()}
        return [walk(v) for v in node] if isinstance(node, list) else node

    return walk(schema)


# A tool's facts as stored: checked by ToolFacts on the way in (catalog/facts.py), passed on
# as they are (re-validating would fill in defaults an answer never had). The docs show their shape.
Facts = Annotated[dict[str, Any], WithJsonSchema(inlined(ToolFacts.model_json_schema(mode="serialization")))]
# A JSON value of a fact: a number, text, a yes or no, a list of them, or null.
FactValue = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "number"},
                {"type": "boolean"},
                {
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]},
                },
                {"type": "null"},
            ]
        }
    ),
]


class FieldChange(Schema):
    field: str  # a fact's path: `price.seat_usd`, `benchmarks[SWE-bench].score`
    before: FactValue
    after: FactValue


class PanelTally(Schema):
    verdict: str | None
    ship: int
    skip: int
    ship_share: int | None
    label: str


class CommunityTally(Schema):
    ship: int
    skip: int


class ToolSummary(Schema):
    slug: str
    name: str
    category: str
    best_for: str
    entry_price: str
    panel: PanelTally
    community: CommunityTally
    url: str
    panel_score: float | None = None  # the current panel's mean score; None: no score yet
    price_band: str | None = None  # free, under-20, 20-100, over-100, per-token; None: unknown


class Section(Schema):
    key: str
    title: str
    question: str
    text: str


class Review(Schema):
    score: int | None
    verdict: str
    bar: int | None
    margin: int | None
    range: list[int | None]
    near_bar: bool
    provisional: bool
    coverage: float | None
    unknown: list[str]
    criteria: dict[str, int]
    self_review: bool
    samples: int
    summary: str
    sections: list[Section]
    model: str
    prompt_version: str


class PersonaReview(Review):
    persona: str


class ToolFields(Schema):
    slug: str
    name: str
    vendor: str
    category: str
    best_for: str
    description: str
    pricing: str
    entry_price: str
    license: str
    panel: PanelTally
    community: CommunityTally
    disagreement: str | None
    facts: Facts


class Coverage(Schema):
    slug: str
    coverage: float
    evidence: int
    oldest_as_of: str
    checked: str
    stale: bool
    warnings: list[str]
    unknown: list[str]


class ToolDetail(ToolFields):
    coverage: Coverage
    reviews: list[PersonaReview]


class FactsChange(Schema):
    at: str
    by: str
    new_tool: bool
    changes: list[FieldChange]


class RunRow(Schema):
    run: int
    finished_at: str
    model: str
    scores: dict[str, int | None]
    names: dict[str, str]
    verdicts: dict[str, str]
    panel: str


class ScoreChange(Schema):
    persona: str
    name: str
    before: int | None
    after: int | None


class LatestChange(Schema):
    from_run: int
    to_run: int
    facts: list[FieldChange]
    scores: list[ScoreChange]
    panel: list[str]
    facts_known: bool


class History(Schema):
    runs: list[RunRow]
    latest_change: LatestChange | None


class EvidenceRow(Schema):
    label: str
    values: list[str | None]
    better: str | None


class ScorecardRow(Schema):
    persona: str
    name: str
    reviews: list[Review | None]


class ComparisonOut(Schema):
    title: str
    tools: list[ToolFields]
    evidence: list[EvidenceRow]
    scorecard: list[ScorecardRow]


class Criterion(Schema):
    key: str
    label: str
    weight: int
    anchors: dict[str, str] | None = None


class PersonaSection(Schema):
    key: str
    title: str
    question: str


class PersonaOut(Schema):
    key: str
    name: str
    lens: str
    motto: str
    style_brief: str
    excites: list[str]
    tires: list[str]
    sections: list[PersonaSection]
    summary_section: str
    ship_threshold: int
    criteria: list[Criterion]
    version: str


# Answers given before any operation runs, so each operation documents them too: a control
# character anywhere in the address or query (shiporskip/middleware.py, JSON like every error
# here), and an address longer than the web server reads. Django sets no limit on the request
# line; the server in front does and answers 414 itself, before Django sees the request
# (granian, which `shiporskip up` runs: empty body, seen for a 70 KB address; Django's
# development server: over 65536 bytes, a small HTML page; gunicorn: over 4094 bytes, HTML).
ANSWERED_BEFORE = {
    "responses": {
        "414": {
            "description": "The address is longer than the web server accepts (answered by "
            "the web server in front of Django: empty, or a short HTML page).",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
    },
}
# No address or query value may hold a control character: the middleware answers 400 before
# the view runs. Said in the schema too, so a client (or schemathesis) knows what is valid.
CLEAN = r"^[^\x00-\x1f\x7f]*$"
BAD_INPUT = {400: Error}  # "The query parameter “category” contains a control character (...)"
UNKNOWN = {404: Error}


# The values each filter takes, from listing.py's tables (one home for them); a type checker
# cannot read a Literal built at run time, so it sees plain text.
if TYPE_CHECKING:
    VerdictValue: TypeAlias = str
    PriceBand: TypeAlias = str
    YesNo: TypeAlias = str
    SortKey: TypeAlias = str
else:
    VerdictValue = Literal[tuple(listing.VERDICTS)]
    PriceBand = Literal[tuple(listing.PRICE_BANDS)]
    YesNo = Literal[tuple(listing.YES_NO)]
    SortKey = Literal[tuple(listing.SORTS)]

TOOLS_DOC = (
    "The same filters and sorts as the /tools page, with the same values. A filter on a fact "
    "leaves out tools whose fact is not on record (unknown is neither yes nor no). Sorts: "
    + "; ".join(f"`{key}`: {rule}" for key, rule in listing.SORT_RULES.items())
    + ". Every tool in one answer unless `limit` is given; `X-Total-Count` says how many match, "
    "and a `Link` header gives the `next` and `prev` pages. A bad value answers 400 saying which; "
    "a category that does not exist, 404."
)


@api.get(
    "/tools",
    response={200: list[ToolSummary], **BAD_INPUT, **UNKNOWN},
    openapi_extra=ANSWERED_BEFORE,
    summary="Every tool with its panel verdict and community tally",
    description=TOOLS_DOC,
)
def tools(
    request,
    response: HttpResponse,
    category: str | None = Query(None, pattern=CLEAN, description="A category's slug."),
    verdict: VerdictValue | None = Query(
        None, description="The current panel's majority; `none`: no verdict yet."
    ),
    price: PriceBand | None = Query(
        None,
        description="Cheapest paid seat a month in USD (free, under $20, $20 to $100, "
        "over $100), or per-token for APIs; a tool with no price is in none.",
    ),
    open_weights: YesNo | None = Query(None, description="Model weights can be downloaded."),
    self_hostable: YesNo | None = Query(None, description="Runs on your own hardware."),
    free_tier: YesNo | None = Query(None, description="A free plan or free use exists."),
    sort: SortKey = Query("name", description="The order; see above."),
    limit: int | None = Query(None, ge=1, le=500, description="At most this many tools."),
    offset: int = Query(0, ge=0, le=10_000_000, description="Skip this many tools first."),
):
    known = sorted(Category.objects.values_list("slug", flat=True)) if category else []
    if category and category not in known:
        # Any clean string is a valid slug; one that names no category is not found, as an
        # unknown tool's slug is. (Before filters, this answered an empty list.)
        raise HttpError(404, f"Unknown category “{category}”: use one of {', '.join(known)}.")
    given = {
        "category": category,
        "verdict": verdict,
        "price": price,
        "open_weights": open_weights,
        "self_hostable": self_hostable,
        "free_tier": free_tier,
        "sort": sort,
    }
    choice = listing.parse(
        {k: v for k, v in given.items() if v}, categories={category}, default_sort="name"
    )  # the values are checked by their types above
    items = listing.tools(choice)
    found = list(items[offset : offset + limit] if limit is not None else items[offset:])
    # The whole list counts itself; a window of it takes one more query to count the rest.
    total = len(found) if offset == 0 and limit is None else items.count()
    response["X-Total-Count"] = str(total)
    if limit is not None and (links := page_links(request, offset, limit, total)):
        response["Link"] = links
    return [summary(tool) for tool in found]


def page_links(request, offset: int, limit: int, total: int) -> str:
    """RFC 8288 links to the next and previous pages of the same query."""
    links = []
    for rel, start in (
        ("prev", max(offset - limit, 0) if offset else None),
        ("next", offset + limit if offset + limit < total else None),
    ):
        if start is not None:
            query = request.GET.copy()
            query["offset"] = str(start)
            links.append(f'<{request.path}?{query.urlencode()}>; rel="{rel}"')
    return ", ".join(links)


@api.get(
    "/tools/{slug}",
    response={200: ToolDetail, **BAD_INPUT, **UNKNOWN},
    openapi_extra=ANSWERED_BEFORE,
    summary="One tool with its facts and current reviews",
)
def tool(request, slug: str = Path(..., pattern=CLEAN)):
    item = get_object_or_404(Tool.objects.with_tallies(), slug=slug)
    reviews = item.current_run.reviews.select_related("persona") if item.current_run else []
    return {
        **comparison.tool_dict(item),
        "coverage": coverage(item.parsed_facts).as_json(item.slug),
        "reviews": [{"persona": r.persona.key, **comparison.review_dict(r)} for r in reviews],
    }


@api.get(
    "/tools/{slug}/facts-history",
    response={200: list[FactsChange], **BAD_INPUT, **UNKNOWN},
    openapi_extra=ANSWERED_BEFORE,
    summary="Every change to a tool's facts, field by field",
)
def facts_history(request, slug: str = Path(..., pattern=CLEAN)):
    item = get_object_or_404(Tool, slug=slug)
    return [
        {"at": c.at.isoformat(), "by": c.by, "new_tool": c.previous is None, "changes": c.changes}
        for c in item.facts_changes.all()
    ]


@api.get(
    "/tools/{slug}/history",
    response={200: History, **BAD_INPUT, **UNKNOWN},
    openapi_extra=ANSWERED_BEFORE,
    summary="Each panel run's scores, and what the latest re-review changed",
)
def history(request, slug: str = Path(..., pattern=CLEAN)):
    item = get_object_or_404(Tool, slug=slug)
    return verdict_history.as_json(verdict_history.verdict_history(item))


@api.get(
    "/compare/{a}/{b}",
    response={200: ComparisonOut, **BAD_INPUT, **UNKNOWN},
    openapi_extra=ANSWERED_BEFORE,
    summary="Two tools side by side, in canonical order",
)
def compare(request, a: str = Path(..., pattern=CLEAN), b: str = Path(..., pattern=CLEAN)):
    if a == b:
        raise HttpError(404, "Pick two different tools.")
    result = comparison.load(a, b)
    if result is None:
        raise HttpError(404, "Unknown tool slug; list them at /api/tools.")
    return result.as_dict()


@api.get(
    "/personas",
    response={200: list[PersonaOut], **BAD_INPUT},
    openapi_extra=ANSWERED_BEFORE,
    summary="The active review panel",
)
def personas(request):
    return [{**p.data(), "version": p.version} for p in Persona.objects.active()]


class SearchHit(ToolSummary):
    vendor: str


@api.get(
    "/search",
    response={200: list[SearchHit], **BAD_INPUT},
    openapi_extra=ANSWERED_BEFORE,
    summary="Tools matching a query, best match first",
    description="Matches name, vendor, category, best-for and description, each word as a "
    "prefix, with near spellings of names and vendors (`olama`: Ollama). Name "
    "matches come first, then vendor or category, then the other text. An empty "
    "query answers an empty list; a query over 200 characters answers 400.",
)
def search_tools(
    request,
    q: str = Query("", pattern=CLEAN, max_length=catalog_search.MAX_QUERY, description="What to look for."),
    limit: int = Query(10, ge=1, le=50, description="At most this many tools."),
):
    query = catalog_search.check(q)  # never too long here: the schema's max_length refused that
    return [{**summary(tool), "vendor": tool.vendor} for tool in catalog_search.search(query, limit)]


def rounded(score: float | None) -> float | None:
    return None if score is None else round(score, 1)


def summary(tool: Tool) -> dict:
    return {
        "slug": tool.slug,
        "name": tool.name,
        "category": tool.category.name,
        "best_for": tool.best_for,
        "entry_price": tool.entry_price,
        "panel": tool.panel.as_dict(),
        "community": tool.community.as_dict(),
        "url": tool.get_absolute_url(),
        "panel_score": rounded(getattr(tool, "panel_score", None)),
        "price_band": getattr(tool, "price_band", None),
    }
