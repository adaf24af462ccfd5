"""The search pages: results at /search (a plain GET form, no JavaScript needed) and the
suggestions fragment htmx asks for as the reader types (the header's box, the compare picker)."""

from django.shortcuts import render

from shiporskip.catalog import search
from shiporskip.pages import public

RESULTS = 50  # the results page shows this many at most
SUGGESTIONS = 8


@public
def results(request):
    try:
        query = search.check(request.GET.get("q", ""))
    except search.QueryTooLong as exc:
        return render(request, "catalog/search.html", {"error": str(exc)}, status=400)
    return render(request, "catalog/search.html", {
        "query": query, "results": search.search(query, RESULTS) if query else []})


@public
def suggestions(request):
    try:
        query = search.check(request.GET.get("q", ""))
    except search.QueryTooLong as exc:
        return render(request, "catalog/search_suggestions.html", {"error": str(exc)}, status=400)
    return render(request, "catalog/search_suggestions.html", {
        "query": query, "results": search.search(query, SUGGESTIONS) if query else []})
