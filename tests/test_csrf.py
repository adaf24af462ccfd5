"""Every POST without a CSRF token is refused, and changes nothing."""

import pytest
from django.test import Client

from shiporskip.community.models import Bookmark, Vote
from tests.community import CODE_LLAMA, csrf_from

POSTS = [
    (f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}),
    (f"/tools/{CODE_LLAMA}/bookmark", {"bookmarked": "1"}),
    (
        "/accounts/signup",
        {"email": "a@example.com", "password1": "long passphrase", "password2": "long passphrase"},
    ),
    ("/accounts/signin", {"username": "a@example.com", "password": "a long passphrase"}),
    ("/accounts/signout", {}),
    ("/accounts/reset", {"email": "a@example.com"}),
]


@pytest.mark.parametrize(("url", "data"), POSTS)
def test_post_without_token_is_refused(seed_pair, url, data):
    client = Client(enforce_csrf_checks=True)
    response = client.post(url, data)
    assert response.status_code == 403
    assert "nothing was changed" in response.content.decode()
    assert not Vote.objects.exists() and not Bookmark.objects.exists()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.exists()


def test_the_same_post_with_the_token_from_me_goes_through(seed_pair):
    client = Client(enforce_csrf_checks=True)
    token = client.get("/me").json()["csrf"]
    response = client.post(
        f"/tools/{CODE_LLAMA}/vote",
        {"verdict": "ship"},
        HTTP_X_CSRFTOKEN=token,
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200 and Vote.objects.count() == 1
    page = client.get(f"/tools/{CODE_LLAMA}/bookmark").content.decode()
    client.post(f"/tools/{CODE_LLAMA}/bookmark", {"csrfmiddlewaretoken": csrf_from(page)})
    assert Bookmark.objects.count() == 1


def test_refusal_fits_each_caller(seed_pair):
    client = Client(enforce_csrf_checks=True)
    url = f"/tools/{CODE_LLAMA}/vote"
    as_json = client.post(url, {"verdict": "ship"}, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 403 and "nothing was changed" in as_json.json()["error"]
    line = client.post(url, {"verdict": "ship"}, HTTP_HX_REQUEST="true").content.decode()
    assert line.startswith('<p class="error" role="alert">') and "<html" not in line
