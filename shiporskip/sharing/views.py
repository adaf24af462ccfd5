"""robots.txt and the social cards."""

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control

from shiporskip.catalog.models import Tool
from shiporskip.compare import comparison
from shiporskip.pages import public
from shiporskip.sharing import cards

# Per-reader pages, sign-in and every address that writes: nothing there for a search engine.
DISALLOW = [
    "/admin/",
    "/accounts/",
    "/me",
    "/bookmarks",
    "/tools/*/vote",
    "/tools/*/bookmark",
    "/newsletter/subscribe",
    "/newsletter/confirm/",
    "/newsletter/unsubscribe/",
]


@public(stored=False)  # drawn from settings alone: nothing to keep
def robots(request):
    lines = [
        "User-agent: *",
        *(f"Disallow: {path}" for path in DISALLOW),
        "Allow: /",
        "",
        f"Sitemap: {settings.SITE_URL}{reverse('sharing:sitemap')}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


YEAR = 365 * 24 * 3600


def card_response(request, card: cards.Card, path: str):
    """The card's PNG if asked for by its current version; else a redirect to that version.

    A versioned address never changes content, so it is cached for a year as immutable; the
    rendered bytes are kept in the cache by version, so a burst of link previews renders once.
    An old or missing version (a link shared before the verdict changed) is sent on to the
    current card, briefly cacheable.
    """
    version = card.version
    if request.GET.get("v") != version:
        response = redirect(f"{path}?v={version}")
        patch_cache_control(response, public=True, max_age=settings.CACHE_SECONDS)
        return response
    etag = f'"{version}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={YEAR}, immutable"}
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        for key, value in headers.items():
            not_modified[key] = value
        return not_modified
    png = cache.get_or_set(f"card:{version}", lambda: cards.render(card), YEAR)
    return HttpResponse(png, content_type="image/png", headers=headers)


def tool_card(request, slug):
    tool = get_object_or_404(Tool.objects.select_related("category"), slug=slug)
    reviews = list(tool.current_run.reviews.select_related("persona")) if tool.current_run_id else []
    return card_response(request, cards.tool_card(tool, reviews), request.path)


def pair_card(request, pair):
    slugs = comparison.parse_pair(pair)
    found = comparison.load(*slugs) if slugs else None
    if found is None:
        raise Http404("No such comparison.")
    canonical = reverse("sharing:pair_card", args=[f"{found.left.slug}-vs-{found.right.slug}"])
    if request.path != canonical:
        return redirect(canonical, permanent=True)
    return card_response(request, cards.pair_card(found), request.path)


def site_card(request):
    return card_response(request, cards.SITE_CARD, request.path)
