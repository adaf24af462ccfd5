"""The web server's fast path (pagecache/serving.py): a stored public page is answered before
Django with exactly the bytes and headers Django gave it, and only while its tokens stand.

Requests go through the WSGI application as a server calls it (`StoredPages` around Django's
handler), on the test database.
"""

import gzip
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings

from shiporskip.pagecache.serving import StoredPages
from tests.community import CODE_LLAMA, COMPARE, MISTRAL, reader
from tests.test_page_cache import pages

app = StoredPages(WSGIHandler())
django_only = WSGIHandler()


def call(application, path: str, **headers) -> tuple[str, list, bytes]:
    path, _, query = path.partition("?")
    environ = {"PATH_INFO": path, "QUERY_STRING": query, "HTTP_HOST": "testserver", **headers}
    setup_testing_defaults(environ)
    seen = []
    # As Django's test client does: the test's transaction outlives each request.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        answer = application(environ, lambda status, headers, exc_info=None: seen.extend([status, headers]))
        body = b"".join(answer)
        getattr(answer, "close", lambda: None)()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    return seen[0], seen[1], body


def assert_stored(path: str, django_assert_max_num_queries, **headers) -> tuple[str, list, bytes]:
    """Two requests: the second is answered from the store (the tokens' one query), the same."""
    first = call(app, path, **headers)
    with django_assert_max_num_queries(1):
        second = call(app, path, **headers)
    assert second == first, path
    return first


@pytest.mark.parametrize("encoding", ["", "gzip, deflate, br"])
def test_every_public_page_is_answered_from_the_store_as_django_answers_it(
    seed_pair, django_assert_max_num_queries, encoding
):
    for path in pages():
        stored = assert_stored(path, django_assert_max_num_queries, HTTP_ACCEPT_ENCODING=encoding)
        # The same status, headers and bytes as Django's own answer (its own page cache is warm,
        # so the Last-Modified it stamped is the same one).
        assert stored == call(django_only, path, HTTP_ACCEPT_ENCODING=encoding), path
        assert stored[0] == "200 OK"
        assert dict(stored[1]).get("Content-Encoding") == ("gzip" if encoding else None), path


def test_a_vote_shows_on_the_next_request(seed_pair, django_assert_max_num_queries):
    shown = [COMPARE, f"/tools/{CODE_LLAMA}", "/tools"]
    before = {path: assert_stored(path, django_assert_max_num_queries)[2] for path in shown}
    kept = assert_stored(f"/tools/{MISTRAL}", django_assert_max_num_queries)
    assert reader().post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}).status_code == 303
    for path in shown:
        after = call(app, path)[2]
        assert after != before[path], f"{path} is served stale"
        with override_settings(PAGE_CACHE_SECONDS=0):
            assert after == call(django_only, path)[2], path
        assert "1 vote" in after.decode()
    with django_assert_max_num_queries(1):  # Mistral's page does not show Code Llama's tally
        assert call(app, f"/tools/{MISTRAL}") == kept


def test_encodings_are_stored_apart(seed_pair):
    plain = call(app, COMPARE)[2]
    packed = call(app, COMPARE, HTTP_ACCEPT_ENCODING="gzip")[2]
    assert gzip.decompress(packed) == plain
    assert call(app, COMPARE)[2] == plain
    assert call(app, COMPARE, HTTP_ACCEPT_ENCODING="gzip")[2] == packed


def test_what_django_must_refuse_or_redirect_is_never_answered_from_the_store(seed_pair, settings):
    call(app, COMPARE)
    assert call(app, COMPARE, HTTP_HOST="evil.example")[0].startswith("400")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    behind_a_proxy = StoredPages(WSGIHandler())  # middleware reads its settings when loaded
    call(behind_a_proxy, COMPARE, HTTP_X_FORWARDED_PROTO="https")
    status, headers, _ = call(behind_a_proxy, COMPARE)
    assert status.startswith("301") and dict(headers)["Location"].startswith("https://")
    assert call(behind_a_proxy, COMPARE, HTTP_X_FORWARDED_PROTO="https")[0] == "200 OK"


def test_a_conditional_get_and_a_head_go_to_django(seed_pair):
    """The store answers plain GETs only: Django answers the 304 (from its own page cache,
    with the stored page's validators) and the HEAD."""
    status, headers, _ = call(app, COMPARE)
    etag = dict(headers)["ETag"]
    assert not handled_by_django(COMPARE)  # stored
    assert handled_by_django(COMPARE, HTTP_IF_NONE_MATCH=etag)
    assert call(app, COMPARE, HTTP_IF_NONE_MATCH=etag)[0].startswith("304")
    assert handled_by_django(COMPARE, REQUEST_METHOD="HEAD")
    assert call(app, COMPARE, REQUEST_METHOD="HEAD")[0] == "200 OK"


def handled_by_django(path: str, **headers) -> bool:
    seen = []

    def started(sender, **kwargs):
        if sender is WSGIHandler:
            seen.append(1)

    request_started.connect(started)
    try:
        call(app, path, **headers)
    finally:
        request_started.disconnect(started)
    return bool(seen)


def test_pages_for_one_reader_are_never_stored(seed_pair):
    for path in ["/me", "/accounts/login/", "/bookmarks", f"/tools/{CODE_LLAMA}"]:
        call(app, path)
    assert not handled_by_django(f"/tools/{CODE_LLAMA}")  # the public one is stored
    for path in ["/me", "/accounts/login/", "/bookmarks"]:
        assert handled_by_django(path), path
    # A kept page's view answering an error: not stored, whatever the view read.
    missing = f"/compare/{CODE_LLAMA}-vs-no-such-tool"
    assert call(app, missing)[0].startswith("404")
    assert handled_by_django(missing)


def test_the_cache_off_stores_nothing(seed_pair, settings):
    settings.PAGE_CACHE_SECONDS = 0
    call(app, COMPARE)
    assert handled_by_django(COMPARE)
