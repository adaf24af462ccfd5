"""Public pages hold nothing per reader, so any cache may serve them to everyone."""

import pytest

from tests.community import CODE_LLAMA, COMPARE, reader


@pytest.mark.parametrize("url", ["/", f"/tools/{CODE_LLAMA}", COMPARE])
def test_pages_are_the_same_for_every_reader(seed_pair, url):
    alice = reader()
    alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
    alice.post(f"/tools/{CODE_LLAMA}/bookmark", {"bookmarked": "1"})
    seen_by_alice, seen_by_stranger = alice.get(url), reader().get(url)
    assert seen_by_alice.content == seen_by_stranger.content
    for response in (seen_by_alice, seen_by_stranger):
        assert "public" in response["Cache-Control"]
        assert "Cookie" not in response.get("Vary", "")
        assert not response.cookies  # no session or CSRF cookie set by a page view
        html = response.content.decode()
        assert 'name="csrfmiddlewaretoken" value=""' in html  # filled in by /me, not baked in
        assert 'aria-pressed="true"' not in html and "★ Bookmarked" not in html


def test_per_reader_answers_are_never_cached(seed_pair):
    alice = reader()
    for url in ["/me", "/bookmarks", "/bookmarks/panel", f"/tools/{CODE_LLAMA}/vote", "/accounts/signin"]:
        cache_control = alice.get(url)["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, url
    answer = alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}, HTTP_HX_REQUEST="true")
    assert "no-store" in answer["Cache-Control"]


@pytest.mark.parametrize("url", ["/categories/developer-tools", "/newsletter/"])
def test_listing_pages_are_public_too(seed_pair, url):
    response = reader().get(url)
    assert "public" in response["Cache-Control"] and not response.cookies
    assert "Cookie" not in response.get("Vary", "")
