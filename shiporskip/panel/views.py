import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Paginator
from django.db import connection
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, render

from shiporskip.catalog.models import Category, Tool
from shiporskip.links import slug_urls
from shiporskip.pages import public
from shiporskip.panel.models import Persona, PersonaTally, Review

# A persona reviews the whole catalog: its page lists the reviews this many at a time (the
# bundled catalog fits on one), so a page costs the same at 58 tools or 10,000.
REVIEWS_PER_PAGE = 100


@public
def personas(request):
    return render(request, "panel/personas.html", {"personas": Persona.objects.active()})


class CountedPaginator(Paginator):
    """A paginator told its count: the persona page has it from its tally, one query fewer."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self.count = count  # overrides the cached property: no COUNT query


def verdict_counts(persona) -> dict[int, dict[str, int]]:
    """{category id: {verdict: reviews}} of the persona's current reviews, as the database keeps
    them (PersonaTally): a few rows read, not every review grouped."""
    rows = PersonaTally.objects.filter(persona=persona, reviews__gt=0).values_list(
        "category_id", "verdict", "reviews"
    )
    counts: dict[int, dict[str, int]] = {}
    for category_id, verdict, n in rows:
        counts.setdefault(category_id, {})[verdict] = n
    return counts


def reviewed_runs(persona, category_slug: str):
    """The current runs of the tools the persona has a current review of, by tool name.

    Walked in name order off the tool's name index, each tool's review found by its run and
    persona (the review's unique index), so a page of 100 reads about 100 tools, where ordering
    the persona's reviews by their tools' names sorted every one of them.
    """
    reviewed = Review.objects.filter(
        run_id=OuterRef("current_run_id"), tool_id=OuterRef("pk"), persona=persona
    )
    tools = Tool.objects.filter(Exists(reviewed))
    if category_slug:
        tools = tools.filter(category__slug=category_slug)
    return tools.order_by("name").values_list("current_run_id", flat=True)


@dataclass(frozen=True)
class Line:
    """One line of a persona's page: a current review, as the list shows it."""

    name: str  # the tool's
    url: str
    score: int | None
    verdict: str
    summary: str


# The persona's current reviews in a page of runs ({runs}: that page's query), by tool name.
LINES_SQL = (
    "SELECT t.name, t.slug, r.score, r.verdict, r.sections FROM panel_review r "
    "JOIN catalog_tool t ON t.id = r.tool_id "
    "WHERE r.persona_id = %s AND r.run_id = t.current_run_id AND r.run_id IN ({runs}) "
    "ORDER BY t.name"
)


def page_reviews(persona, runs) -> list[Line]:
    """The persona's reviews in one page of runs (a queryset of run ids), by tool name: what the
    list shows of each, read with one plain statement. As Review and Tool models, with the ORM
    compiling the query, a page of 100 cost about three times as much."""
    try:
        runs_sql, runs_params = runs.query.sql_with_params()
    except EmptyResultSet:  # an empty page (a persona with no reviews yet): nothing to read
        return []
    key = persona.summary_key
    # A plain cursor gives a JSON column as its text on both databases (Django has psycopg
    # load jsonb as text, for JSONField to decode): decoded here as the field would.
    with connection.cursor() as cursor:
        cursor.execute(LINES_SQL.format(runs=runs_sql), [persona.pk, *runs_params])
        rows = cursor.fetchall()
    tool_url = slug_urls("catalog:tool")
    return [
        Line(name, tool_url(slug), score, verdict, json.loads(sections).get(key, ""))
        for name, slug, score, verdict, sections in rows
    ]


@public
def persona(request, key):
    item = get_object_or_404(Persona, key=key)
    chosen, raw_page = request.GET.get("category", ""), request.GET.get("page", "") or "1"
    if not raw_page.isascii() or not raw_page.isdigit() or int(raw_page) < 1 or len(raw_page) > 9:
        return render(
            request,
            "bad_input.html",
            status=400,
            context={"error": f"Page “{raw_page}” is not a page number: use 1, 2, 3 ..."},
        )
    counts = verdict_counts(item)
    all_categories = list(Category.objects.all())
    categories = [c for c in all_categories if c.pk in counts]
    shown = [c for c in categories if not chosen or c.slug == chosen]
    total = sum(sum(counts[c.pk].values()) for c in shown)
    paginator = CountedPaginator(reviewed_runs(item, chosen), REVIEWS_PER_PAGE, total)
    base = item.get_absolute_url()
    try:
        page = paginator.page(int(raw_page))
    except EmptyPage:
        return render(
            request,
            "catalog/past_the_end.html",
            status=404,
            context={
                "page": int(raw_page),
                "pages": paginator.num_pages,
                "last_url": base + query(chosen, paginator.num_pages),
            },
        )
    return render(
        request,
        "panel/persona.html",
        {
            "persona": item,
            "reviews": page_reviews(item, page.object_list),
            "page": page,
            "chosen": chosen,
            "count": paginator.count,
            "prev_url": base + query(chosen, page.previous_page_number()) if page.has_previous() else None,
            "next_url": base + query(chosen, page.next_page_number()) if page.has_next() else None,
            "tally": [(c, counts[c.pk].get("ship", 0), counts[c.pk].get("skip", 0)) for c in categories],
            "all_categories": categories or all_categories,
        },
    )


def query(category: str, page: int) -> str:
    params = [(k, v) for k, v in (("category", category), ("page", page if page > 1 else "")) if v]
    return "?" + urlencode(params) if params else ""
