"""Helpers shared by the public pages."""

import hashlib
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.utils.http import http_date
from whitenoise.storage import CompressedManifestStaticFilesStorage

from shiporskip.pagecache.models import SITE, VOTES, tokens, tool_scope
from shiporskip.pagecache.serving import remember, storable
from shiporskip.panel.models import Persona


def lists(kwargs) -> list[str]:
    """What a page shows unless its view says less: the site and every tool's community tally."""
    return [SITE, *VOTES]


def panel_only(kwargs) -> list[str]:
    """A page with no community tally (a badge, a feed): the site alone."""
    return [SITE]


def one_tool(kwargs) -> list[str]:
    """A tool's page: the site, and its own community tally (its rivals show the panel's)."""
    return [SITE, tool_scope(kwargs["slug"])]


def two_tools(kwargs) -> list[str] | None:
    """A comparison: the site and both tools' tallies, for each way the address splits in two
    (the view finds which is real). An address too long to be one (the view refuses it before
    any query) is not looked up at all: None."""
    pieces = kwargs["pair"].split("-vs-")
    if len(pieces) > 5:
        return None
    halves = {"-vs-".join(part) for i in range(1, len(pieces)) for part in (pieces[:i], pieces[i:])}
    return [SITE, *map(tool_scope, sorted(halves))]


def public(view=None, *, shows=lists, stored=True):
    """Mark a page cacheable by browsers and proxies (nothing in it is per-reader), and keep
    its rendered bytes in the Django cache until what it shows changes.

    `shows(kwargs)` names the generation scopes (pagecache/models.py) the page is drawn from
    (None: this address is not kept);
    the page's key is its address plus their tokens, read in one query before the view runs.
    A write commits its new token with itself (database triggers), so the first request after
    it misses and renders afresh: never a stale tally. A page rendered from older rows while
    a write commits is stored under the older tokens, which no later request asks for.
    `stored=False` keeps the headers but not the bytes (search: every query is its own page).
    Every stored page has an ETag and a Last-Modified, and a matching conditional GET is a 304.
    """
    if view is None:
        return lambda view: public(view, shows=shows, stored=stored)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = settings.PAGE_CACHE_SECONDS
        if not (stored and seconds and request.method == "GET"):
            return mark_public(view(request, *args, **kwargs))
        scopes = shows(kwargs)
        if scopes is None:
            return mark_public(view(request, *args, **kwargs))
        values = tokens(scopes)
        request.site_token = values[scopes.index(SITE)] if SITE in scopes else None
        remember(request, scopes, values)  # the web server may keep the whole answer too
        key = page_key(request, scopes, values)
        response = cache.get(key)
        if response is None:
            response = mark_public(view(request, *args, **kwargs))
            if storable(response):
                keep(key, response, seconds)
        if not response.has_header("ETag"):
            return response
        return (
            get_conditional_response(
                request,
                etag=response["ETag"],
                last_modified=getattr(response, "last_modified_at", None),
                response=response,
            )
            or response
        )

    return wrapper


def mark_public(response):
    if response.status_code == 200 and not response.has_header("Cache-Control"):
        patch_cache_control(response, public=True, max_age=settings.CACHE_SECONDS)
    return response


def page_key(request, scopes, values) -> str:
    tokens_seen = (f"{scope}={value}" for scope, value in zip(scopes, values, strict=True))
    described = "\n".join([request.get_full_path(), *tokens_seen])
    return "page:" + hashlib.sha256(described.encode()).hexdigest()


def keep(key: str, response, seconds: int) -> None:
    """Store the finished response (a TemplateResponse is rendered first) with its validators."""
    if hasattr(response, "render"):
        response.render()
    set_response_etag(response)
    response.last_modified_at = int(time.time())
    response["Last-Modified"] = http_date(response.last_modified_at)
    cache.set(key, response, seconds)


class PublicGZipMiddleware(GZipMiddleware):
    """gzip for public pages only. A compressed answer that mixes a secret (a CSRF token in
    /me or a form page) with what an attacker sends can leak it by its length (BREACH); a
    public page holds nothing per reader, so it has nothing to leak, and its gzip bytes are
    the same for every reader (no random padding), as its plain bytes are."""

    max_random_bytes = 0

    def process_response(self, request, response):
        if "public" not in response.get("Cache-Control", "") or response.get("Content-Type", "").startswith(
            "image/png"
        ):  # already compressed
            return response
        return super().process_response(request, response)


class StaticFiles(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files once `collectstatic` has run (`up` and the tests run
    it); before that (a server started by hand), the plain names the finders serve."""

    def stored_name(self, name):
        if not self.hashed_files:
            return name
        return super().stored_name(name)


def site(request):
    """Context processor: the panel's size for the footer, cached (it rarely changes).

    On a page the page cache keeps, the count is keyed by the site's token, as the page is: a
    persona edit changes both at once. Elsewhere a minute old is fine.
    """
    token = getattr(request, "site_token", None)
    key = "panel-size" if token is None else f"panel-size:{token}"
    size = cache.get_or_set(key, lambda: Persona.objects.active().count(), 60 if token is None else 3600)
    return {"panel_size": size}


def page_not_found(request, exception=None):
    """The 404 page (DEBUG off): the site's style and navigation, and the compare picker."""
    from shiporskip.catalog.models import Tool

    try:
        choices = list(Tool.objects.picker_choices())
    except DatabaseError:  # a page that is not there must not become a server error
        choices = []
    return render(request, "404.html", {"choices": choices}, status=404)
