"""Helpers shared by the public pages."""

from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from shiporskip.panel.models import Persona


def public(view):
    """Mark a page cacheable by browsers and proxies: nothing in it is per-reader."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.has_header("Cache-Control"):
            patch_cache_control(response, public=True, max_age=settings.CACHE_SECONDS)
        return response

    return wrapper


def site(request):
    """Context processor: the panel's size for the footer, cached (it rarely changes)."""
    size = cache.get_or_set("panel-size", lambda: Persona.objects.active().count(), 60)
    return {"panel_size": size}


def page_not_found(request, exception=None):
    """The 404 page (DEBUG off): the site's style and navigation, and the compare picker."""
    from shiporskip.catalog.models import Tool

    try:
        choices = list(Tool.objects.picker_choices())
    except DatabaseError:  # a page that is not there must not become a server error
        choices = []
    return render(request, "404.html", {"choices": choices}, status=404)
