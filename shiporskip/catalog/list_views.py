"""The pages that list tools: every tool with filters, a category's ranking, a tool's alternatives.

Each filter, sort and page is a link (no JavaScript needed); a bad value answers 400 saying
which and why, a page past the end 404, and nothing is changed either way.
"""

from django.core.paginator import EmptyPage, Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from shiporskip.catalog import listing
from shiporskip.catalog.models import PANEL_RIVALS, Category, Tool
from shiporskip.compare.comparison import compare_url
from shiporskip.pages import public

RANKING_PER_PAGE = 50
# How many alternatives the page lists; the panel itself weighs a tool against the first
# `PANEL_RIVALS` of them.
ALTERNATIVES = 12


def bad_input(request, message: str, status: int = 400):
    return render(request, "bad_input.html", {"error": message}, status=status)


def paged(choice, queryset, per_page: int):
    """The page of `queryset` the choice asks for (None past the last page), and its paginator."""
    paginator = Paginator(queryset, per_page)
    try:
        page = paginator.page(choice.page)
    except EmptyPage:
        return None, paginator
    return page, paginator


def page_links(choice, page, base: str) -> dict:
    return {
        "prev_url": base + choice.query(page=page.previous_page_number()) if page.has_previous() else None,
        "next_url": base + choice.query(page=page.next_page_number()) if page.has_next() else None,
    }


def past_the_end(request, choice, paginator, base: str):
    """A page past the last (a link kept from a longer list): 404, with the way back."""
    last = base + choice.query(page=paginator.num_pages)
    return render(
        request,
        "catalog/past_the_end.html",
        {"page": choice.page, "pages": paginator.num_pages, "last_url": last},
        status=404,
    )


@public
def tools(request):
    categories = list(Category.objects.all())
    try:
        choice = listing.parse(request.GET, categories={c.slug for c in categories})
    except listing.BadListing as exc:
        return bad_input(request, str(exc))
    base = reverse("catalog:tools")
    page, paginator = paged(choice, listing.Listing(choice), listing.PER_PAGE)
    if page is None:
        return past_the_end(request, choice, paginator, base)
    return render(
        request,
        "catalog/tools.html",
        {
            "choice": choice,
            "base": base,
            "page": page,
            "count": paginator.count,
            "rows": listing.ranked(page, choice.sort),
            **page_links(choice, page, base),
            **listing.controls(choice, categories),
        },
    )


@public
def category(request, slug):
    cat = get_object_or_404(Category, slug=slug)
    try:
        choice = listing.parse(request.GET, categories={cat.slug}, fixed=("category",))
    except listing.BadListing as exc:
        return bad_input(request, str(exc))
    base = cat.get_absolute_url()
    page, paginator = paged(
        choice, listing.Listing(choice, Tool.objects.filter(category=cat)), RANKING_PER_PAGE
    )
    if page is None:
        return past_the_end(request, choice, paginator, base)
    return render(
        request,
        "catalog/category.html",
        {
            "category": cat,
            "choice": choice,
            "base": base,
            "page": page,
            "count": paginator.count,
            "rows": listing.ranked(page, choice.sort),
            **page_links(choice, page, base),
            **listing.controls(choice, [cat], fixed=("category",)),
            "all_url": reverse("catalog:tools") + listing.Choice().query(category=cat.slug),
        },
    )


@public
def alternatives(request, slug):
    item = get_object_or_404(Tool.objects.with_tallies(), slug=slug)
    nearest = item.rival_pks(ALTERNATIVES)
    rows = [
        {"tool": rival, "compare_url": compare_url(item.slug, rival.slug), "weighed": i < PANEL_RIVALS}
        for i, rival in enumerate(listing.rows(nearest))
    ]
    return render(
        request, "catalog/alternatives.html", {"tool": item, "rows": rows, "panel_rivals": PANEL_RIVALS}
    )
