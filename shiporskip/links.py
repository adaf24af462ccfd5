"""reverse() for the addresses a list writes once per row: a tool's, a category's, a persona's.

A list page links 50 to 300 rows, and reverse() walks the URL resolver for each: on the
persona page at 10,000 tools that was a tenth of the render. The address of such a view is
its pattern with one slug put in, so the pattern is reversed once (per script prefix, which
a deployment under a sub-path sets per request, and per urlconf) and the slug is put into the
result. Only for slug-like values: anything else goes through reverse() as before.
`slug_urls(view)` does the same for a whole page, each slug quoted as reverse() would: the
prefix and urlconf are looked up once, not per row.
"""

import re
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

PLACEHOLDER = "slug-placeholder-0"
# Where shiporskip/urls.py mounts the admin, as request.path_info shows it.
ADMIN_PATH = "/admin/"
# What reverse() leaves as it is (no quoting), so that putting it in gives reverse()'s answer.
PLAIN = re.compile(r"[-a-zA-Z0-9_]+")
_halves: dict[tuple[str, str, object], tuple[str, str]] = {}


def _around_slug(view: str) -> tuple[str, str]:
    """reverse(view, args=[slug]) before and after the slug: reversed once per view, script
    prefix and urlconf (a request may set its own urlconf, and tests override the site's)."""
    key = (view, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    halves = _halves.get(key)
    if halves is None:
        # The last placeholder: a script prefix could hold it too.
        head, _, tail = reverse(view, args=[PLACEHOLDER]).rpartition(PLACEHOLDER)
        halves = _halves[key] = (head, tail)
    return halves


def slug_url(view: str, slug: str) -> str:
    """reverse(view, args=[slug]) for a view whose one argument is a slug."""
    slug = str(slug)
    if not PLAIN.fullmatch(slug):
        return reverse(view, args=[slug])
    head, tail = _around_slug(view)
    return head + slug + tail


def slug_urls(view: str):
    """slug -> the URL `reverse(view, args=[slug])` gives, for a whole page: the script prefix
    and urlconf looked up once, each slug quoted as reverse() would (a reverse per row was a
    fifth of a 50-row page's time)."""
    head, tail = _around_slug(view)
    return lambda slug: head + quote(slug, safe=URL_SAFE) + tail


URL_SAFE = "!$&'()*+,;=/~:@"  # what reverse() leaves unquoted (RFC 3986 sub-delims and /~:@)
