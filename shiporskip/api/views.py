"""The JSON API: the data behind every page, read-only for now. Docs at /api/docs."""

from django.shortcuts import get_object_or_404
from ninja import NinjaAPI
from ninja.errors import HttpError

from shiporskip.catalog.coverage import coverage
from shiporskip.catalog.models import Tool
from shiporskip.compare import comparison
from shiporskip.panel import history as verdict_history
from shiporskip.panel.models import Persona

api = NinjaAPI(title="Ship or Skip", version="1",
               description="Panel verdicts on AI tools, and any two tools side by side.")


@api.get("/tools", summary="Every tool with its panel verdict and community tally")
def tools(request, category: str | None = None):
    items = Tool.objects.with_tallies().order_by("name")
    if category:
        items = items.filter(category__slug=category)
    return [summary(tool) for tool in items]


@api.get("/tools/{slug}", summary="One tool with its facts and current reviews")
def tool(request, slug: str):
    item = get_object_or_404(Tool.objects.with_tallies(), slug=slug)
    reviews = item.current_run.reviews.select_related("persona") if item.current_run_id else []
    return {**comparison.tool_dict(item),
            "coverage": coverage(item.parsed_facts).as_json(item.slug),
            "reviews": [{"persona": r.persona.key, **comparison.review_dict(r)} for r in reviews]}


@api.get("/tools/{slug}/facts-history", summary="Every change to a tool's facts, field by field")
def facts_history(request, slug: str):
    item = get_object_or_404(Tool, slug=slug)
    return [{"at": c.at.isoformat(), "by": c.by, "new_tool": c.previous is None,
             "changes": c.changes} for c in item.facts_changes.all()]


@api.get("/tools/{slug}/history", summary="Each panel run's scores, and what the latest re-review changed")
def history(request, slug: str):
    item = get_object_or_404(Tool, slug=slug)
    return verdict_history.as_json(verdict_history.verdict_history(item))


@api.get("/compare/{a}/{b}", summary="Two tools side by side, in canonical order")
def compare(request, a: str, b: str):
    if a == b:
        raise HttpError(404, "Pick two different tools.")
    result = comparison.load(a, b)
    if result is None:
        raise HttpError(404, "Unknown tool slug; list them at /api/tools.")
    return result.as_dict()


@api.get("/personas", summary="The active review panel")
def personas(request):
    return [{**p.spec(), "version": p.version} for p in Persona.objects.active()]


def summary(tool: Tool) -> dict:
    return {"slug": tool.slug, "name": tool.name, "category": tool.category.name,
            "best_for": tool.best_for, "entry_price": tool.entry_price,
            "panel": tool.panel.as_dict(), "community": tool.community.as_dict(),
            "url": tool.get_absolute_url()}
