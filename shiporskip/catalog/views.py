from django.db.models import BooleanField, Count, F
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control

from shiporskip.catalog import listing
from shiporskip.catalog.coverage import coverage
from shiporskip.catalog.evidence_view import evidence_groups
from shiporskip.catalog.models import Category, Tool
from shiporskip.compare.comparison import compare_url
from shiporskip.pages import one_tool, public
from shiporskip.panel.history import reviews_in, verdict_history
from shiporskip.panel.models import PanelRun
from shiporskip.panel.provenance import how_made
from shiporskip.panel.tally import panel_doubt

LATEST = 12  # the home page's newest verdicts
# The open runs, in the words of the one-open-run constraint's partial index, so the count reads
# that index's few rows instead of every run: SQLite uses a partial index only when the query
# says its condition as written, and Django's status__in would send the statuses as parameters.
OPEN_RUNS = RawSQL("status IN ('queued', 'running')", (), output_field=BooleanField())


def latest_verdicts(n: int):
    """The n newest verdicts with their tallies. The n tools are picked first, by their current
    runs' finish times alone: read from the runs, newest first off their finish-time index (each
    checked to be its tool's current run), so picking them reads about n runs, not every tool."""
    newest = (
        PanelRun.objects.filter(tool__current_run_id=F("pk"))
        .order_by("-finished_at", "tool__name")
        .values_list("tool_id", flat=True)[:n]
    )
    return listing.rows(list(newest))  # a card shows what a list row does


@public
def home(request):
    categories = list(Category.objects.annotate(tool_count=Count("tools")))
    return render(
        request,
        "catalog/home.html",
        {
            "latest": latest_verdicts(LATEST),
            "categories": categories,
            # Every tool has a category: their counts add up to the catalog, with no extra query.
            "tool_total": sum(c.tool_count for c in categories),
            "choices": Tool.objects.picker_choices(),
            "awaiting": PanelRun.objects.filter(OPEN_RUNS).count(),
        },
    )


def current_reviews(item, history: dict) -> list:
    """The reviews of the tool's current run: its latest finished one, so the history has read
    them; a query only if it has not."""
    if not item.current_run_id:
        return []
    found = reviews_in(history, item.current_run_id)
    return found if found is not None else list(item.current_run.reviews.select_related("persona"))


@public(shows=one_tool)
def tool(request, slug):
    item = get_object_or_404(Tool.objects.with_tallies(), slug=slug)
    history = verdict_history(item)
    reviews = current_reviews(item, history)
    nearest = item.rival_pks(4)
    alternatives = listing.rows(nearest)
    latest_run = item.runs.first()
    facts = item.parsed_facts
    response = render(
        request,
        "catalog/tool.html",
        {
            "tool": item,
            "reviews": reviews,
            "latest_run": latest_run,
            "evidence": evidence_groups(facts),
            "coverage": coverage(facts),
            "doubt": panel_doubt(reviews),
            "history": history,
            "how_made": how_made(reviews),
            "alternatives": [(alt, compare_url(item.slug, alt.slug)) for alt in alternatives],
        },
    )
    if latest_run and latest_run.is_open:
        patch_cache_control(response, no_cache=True)  # progress must show as it happens
    return response
