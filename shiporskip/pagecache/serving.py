"""Stored pages answered before Django: the web server's fast path for the page cache.

`pages.public` keeps a page's rendered bytes keyed by its generation tokens, but a hit there
still walks Django's whole request cycle (request object, signals, URL resolution, a dozen
middleware), which costs more than the page. This WSGI wrapper keeps the finished answer of a
public page, its status, every header the middleware added and its body, per address and per
encoding (gzip or not), with the tokens it was drawn from. The next plain GET for that address
reads those tokens again (one query, as a hit in the view does) and, when none has moved,
answers with the stored bytes without entering Django. Anything else goes to Django as before:
a conditional GET or a HEAD (the view's cache answers a 304), a request that must be redirected
to https, a Host that is not allowed, and every page the view did not mark as kept.

Exactness is the view's: it records the tokens it read before rendering (`remember`), so a page
rendered while a write commits is stored under the older tokens, and the next request, seeing
the new ones, renders afresh.
"""

import hashlib
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.http.request import split_domain_port, validate_host

from shiporskip.ops.metrics import RENDER, REQUESTS
from shiporskip.pagecache.models import tokens_sql

PAGE = "shiporskip.page"  # the WSGI environ key the view fills: (route, scopes, tokens)
ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # as Django's GZipMiddleware decides
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")


def remember(request, scopes: list[str], values: list[int]) -> None:
    """Called by the view's cache: this answer may be kept under these tokens."""
    match = getattr(request, "resolver_match", None)
    route = (match.view_name if match else None) or "unnamed"
    request.META[PAGE] = (route, scopes, values)


class StoredPages:
    """WSGI middleware around Django's application (wsgi.py)."""

    def __init__(self, application):
        self.application = application

    def __call__(self, wsgi_env, start_response):
        started = time.perf_counter()
        key = store_key(wsgi_env) if plain_get(wsgi_env) else None
        if key is not None:
            answer = stored_answer(key)
            if answer is not None:
                route, status, headers, body = answer
                start_response(status, headers)
                REQUESTS.labels(route, status[:3]).inc()
                RENDER.labels(route).observe(time.perf_counter() - started)
                return [body]
        seen: list = []

        def capture(status, headers, exc_info=None):
            seen[:] = [status, headers]
            return start_response(status, headers, exc_info)

        response = self.application(wsgi_env, capture)
        if key is not None and PAGE in wsgi_env and seen:
            keep(key, wsgi_env[PAGE], seen[0], seen[1], response)
        return response


def plain_get(wsgi_env) -> bool:
    """A GET that Django would answer with the page itself, the same for every reader."""
    if wsgi_env.get("REQUEST_METHOD") != "GET" or not settings.PAGE_CACHE_SECONDS:
        return False
    if any(name in wsgi_env for name in CONDITIONAL):
        return False
    if settings.SECURE_SSL_REDIRECT and not secure(wsgi_env):
        return False  # Django answers the redirect
    return allowed_host(wsgi_env)


def secure(wsgi_env) -> bool:
    """As HttpRequest.is_secure() decides."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, wanted = settings.SECURE_PROXY_SSL_HEADER
        value = wsgi_env.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == wanted
    return wsgi_env.get("wsgi.url_scheme") == "https"


def allowed_host(wsgi_env) -> bool:
    """A Host that Django would accept; anything unusual goes to Django, which says why not."""
    host = wsgi_env.get("HTTP_HOST")
    if not host or settings.USE_X_FORWARDED_HOST or not settings.ALLOWED_HOSTS:
        return False
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def store_key(wsgi_env) -> str:
    path = wsgi_env.get("PATH_INFO", "") + "?" + wsgi_env.get("QUERY_STRING", "")
    gzip = bool(ACCEPTS_GZIP.search(wsgi_env.get("HTTP_ACCEPT_ENCODING", "")))
    return "stored:" + hashlib.sha256(f"{gzip}\n{path}".encode()).hexdigest()


def stored_answer(key: str):
    """(route, status, headers, body) when the page is stored and its tokens have not moved."""
    entry = cache.get(key)
    if entry is None:
        return None
    route, scopes, values, status, headers, body = entry
    try:
        current = current_tokens(scopes)
    except DatabaseError:
        # A broken connection (the database restarted): drop it, and let Django answer (it
        # connects afresh, or says what is wrong). Otherwise the connection is left as it is:
        # the next request Django answers applies CONN_MAX_AGE to it, as usual; running
        # Django's request signals here would cost a third of a stored answer.
        connection.close_if_unusable_or_obsolete()
        return None
    if current != values:
        return None
    return route, status, headers, body


def current_tokens(scopes: list[str]) -> list[int]:
    """`models.tokens()` on the database driver's own cursor: Django's cursor wrapper (query
    logging, the debug and execute wrappers) cost a third of a stored answer. The statement is
    the same constant SQL, with the driver's own placeholder; errors still come out as Django's
    DatabaseError."""
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once
    sql = tokens_sql(len(scopes), "?" if db.vendor == "sqlite" else "%s")
    with db.wrap_database_errors:
        db.ensure_connection()
        cursor = db.connection.cursor()
        try:
            cursor.execute(sql, scopes)
            found = dict(cursor.fetchall())
        finally:
            cursor.close()
    return [found.get(scope, 0) for scope in scopes]


def storable(response) -> bool:
    """Only what the view marked public as a whole: not an open run's page, an error or a
    cookie. The view's cache (pages.public) and the stored answers here keep the same pages."""
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "public" in cache_control
        and "no-cache" not in cache_control
        and "Cookie" not in response.get("Vary", "")
    )


def keep(key: str, page, status: str, headers: list, response) -> None:
    """Store a whole public answer, as Django's handler gave it to the server."""
    if storable(response):
        route, scopes, values = page
        cache.set(
            key, (route, scopes, values, status, headers, response.content), settings.PAGE_CACHE_SECONDS
        )
