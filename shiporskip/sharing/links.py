"""Absolute links built on SITE_URL: what search engines and link previews are told.

Never on the request's Host header: a page reached by another name (an IP address, a proxy's
internal host) must still name the one public address, and the pages are cached for everyone.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.utils.encoding import escape_uri_path


def absolute(path: str, **query: str) -> str:
    """The public address of a site path (without any query the request came with)."""
    url = settings.SITE_URL + escape_uri_path(path)
    return f"{url}?{urlencode(query)}" if query else url
