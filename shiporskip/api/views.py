"""The JSON API: the data behind every page, read-only for now. Docs at /api/docs.

Every operation declares each answer it can give (tests/test_security_api.py holds the schema
to the answers with schemathesis): its 200 body, 404 where a slug can be unknown, and the
answers that come from in front of the view, shared by all of them (`ANSWERED_BEFORE`).
"""

from typing import Any

from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Path, Query, Schema
from ninja.errors import HttpError

from shiporskip.catalog.coverage import coverage
from shiporskip.catalog.models import Tool
from shiporskip.compare import comparison
from shiporskip.panel import history as verdict_history
from shiporskip.panel.models import Persona

api = NinjaAPI(title="Ship or Skip", version="1",
               description="Panel verdicts on AI tools, and any two tools side by side.")


class Error(Schema):
    detail: str


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
    criteria: dict[str, Any]
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
    facts: dict[str, Any]


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
    changes: list[dict[str, Any]]


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
    facts: list[dict[str, Any]]
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
        "414": {"description": "The address is longer than the web server accepts (answered by "
                               "the web server in front of Django: empty, or a short HTML page).",
                "content": {"text/html": {"schema": {"type": "string"}}}},
    },
}
# No address or query value may hold a control character: the middleware answers 400 before
# the view runs. Said in the schema too, so a client (or schemathesis) knows what is valid.
CLEAN = r"^[^\x00-\x1f\x7f]*$"
BAD_INPUT = {400: Error}  # "The query parameter “category” contains a control character (...)"
UNKNOWN = {404: Error}


@api.get("/tools", response={200: list[ToolSummary], **BAD_INPUT}, openapi_extra=ANSWERED_BEFORE,
         summary="Every tool with its panel verdict and community tally")
def tools(request, category: str | None = Query(None, pattern=CLEAN)):
    items = Tool.objects.with_tallies().order_by("name")
    if category:
        items = items.filter(category__slug=category)
    return [summary(tool) for tool in items]


@api.get("/tools/{slug}", response={200: ToolDetail, **BAD_INPUT, **UNKNOWN},
         openapi_extra=ANSWERED_BEFORE, summary="One tool with its facts and current reviews")
def tool(request, slug: str = Path(..., pattern=CLEAN)):
    item = get_object_or_404(Tool.objects.with_tallies(), slug=slug)
    reviews = item.current_run.reviews.select_related("persona") if item.current_run_id else []
    return {**comparison.tool_dict(item),
            "coverage": coverage(item.parsed_facts).as_json(item.slug),
            "reviews": [{"persona": r.persona.key, **comparison.review_dict(r)} for r in reviews]}


@api.get("/tools/{slug}/facts-history", response={200: list[FactsChange], **BAD_INPUT, **UNKNOWN},
         openapi_extra=ANSWERED_BEFORE, summary="Every change to a tool's facts, field by field")
def facts_history(request, slug: str = Path(..., pattern=CLEAN)):
    item = get_object_or_404(Tool, slug=slug)
    return [{"at": c.at.isoformat(), "by": c.by, "new_tool": c.previous is None,
             "changes": c.changes} for c in item.facts_changes.all()]


@api.get("/tools/{slug}/history", response={200: History, **BAD_INPUT, **UNKNOWN},
         openapi_extra=ANSWERED_BEFORE,
         summary="Each panel run's scores, and what the latest re-review changed")
def history(request, slug: str = Path(..., pattern=CLEAN)):
    item = get_object_or_404(Tool, slug=slug)
    return verdict_history.as_json(verdict_history.verdict_history(item))


@api.get("/compare/{a}/{b}", response={200: ComparisonOut, **BAD_INPUT, **UNKNOWN},
         openapi_extra=ANSWERED_BEFORE, summary="Two tools side by side, in canonical order")
def compare(request, a: str = Path(..., pattern=CLEAN), b: str = Path(..., pattern=CLEAN)):
    if a == b:
        raise HttpError(404, "Pick two different tools.")
    result = comparison.load(a, b)
    if result is None:
        raise HttpError(404, "Unknown tool slug; list them at /api/tools.")
    return result.as_dict()


@api.get("/personas", response={200: list[PersonaOut], **BAD_INPUT}, openapi_extra=ANSWERED_BEFORE,
         summary="The active review panel")
def personas(request):
    return [{**p.spec(), "version": p.version} for p in Persona.objects.active()]


def summary(tool: Tool) -> dict:
    return {"slug": tool.slug, "name": tool.name, "category": tool.category.name,
            "best_for": tool.best_for, "entry_price": tool.entry_price,
            "panel": tool.panel.as_dict(), "community": tool.community.as_dict(),
            "url": tool.get_absolute_url()}
