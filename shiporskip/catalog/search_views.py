"""The search pages: results at /search (a plain GET form, no JavaScript needed) and the
suggestions fragment htmx asks for as the reader types (the header's box, the compare picker)."""

from django.shortcuts import render

from shiporskip.catalog import search
from shiporskip.pages import public

RESULTS = 50  # the results page shows this many at most
SUGGESTIONS = 8


def answer(request, template: str, limit: int):
    """The reader's query searched and shown in `template`; a query too long is a 400 there."""
    try:
        query = search.check(request.GET.get("q", ""))
    except search.QueryTooLong as exc:
        return render(request, template, {"error": str(exc)}, status=400)
    found = search.search(query, limit) if query else []
    return render(request, template, {"query": query, "results": found})


@public(stored=False)
def results(request):
    return answer(request, "catalog/search.html", RESULTS)


@public(stored=False)
def suggestions(request):
    return answer(request, "catalog/search_suggestions.html", SUGGESTIONS)
