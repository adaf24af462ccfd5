"""One POST endpoint, three kinds of answer: an htmx fragment, JSON, or a redirect back."""

import json

from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


def is_htmx(request) -> bool:
    # META, not request.headers: that builds a dict of every header, on each write's answer.
    return request.META.get("HTTP_HX_REQUEST") == "true"


def wants_json(request) -> bool:
    if request.META.get("HTTP_ACCEPT") == "application/json":  # what API clients send: no parsing
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def next_url(request, fallback: str) -> str:
    """Where to send a reader back to: the page they came from, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def answer(
    request,
    *,
    fragment: str,
    context: dict,
    payload: dict,
    back: str,
    status: int = 200,
    event: dict | None = None,
):
    """Answer a write: the updated widget for htmx, JSON when asked for, else a redirect back.

    The views that answer so are @never_cache: their answers are never stored."""
    if is_htmx(request):
        response = render(request, fragment, context, status=status)
        if event:
            response["HX-Trigger"] = json.dumps(event)
    elif wants_json(request):
        response = JsonResponse(payload, status=status)
    elif status >= 400:
        response = render(request, "community/problem.html", {**context, "back": back}, status=status)
    else:
        response = HttpResponseRedirect(back)
        response.status_code = 303  # See Other: the browser follows with a GET
    return response
