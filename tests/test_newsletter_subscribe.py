"""Double opt-in as a reader does it, against a real SMTP server: subscribe, follow the link, confirm."""

import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from shiporskip.newsletter.models import CONFIRM_SALT, Subscriber, Suppression
from tests.smtp import text_part

pytestmark = pytest.mark.django_db

DONE = "Check your inbox: we sent a link to confirm."


def csrf_post(client: Client, url: str, page: str, data: dict):
    """Post a form the way a browser does: with the token from the page it came from."""
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def subscribe(client: Client, address: str):
    page = client.get("/newsletter/subscribe", {"email": address})
    return csrf_post(client, "/newsletter/subscribe", page.content.decode(), {"email": address})


def link_in(message) -> str:
    return re.search(r"http://\S+/newsletter/confirm/\S+", text_part(message)).group(0)


def test_double_opt_in_end_to_end(smtp):
    client = Client(enforce_csrf_checks=True)
    response = subscribe(client, "Reader@Example.com")
    assert response.status_code == 200 and DONE in response.content.decode()
    [message] = smtp.to("reader@example.com")
    assert "Confirm" in message["Subject"]
    assert message.get_body(preferencelist=("html",)) is not None
    path = urlsplit(link_in(message)).path

    page = client.get(path)  # what a mail scanner's prefetch does: nothing changes
    assert page.status_code == 200 and "Confirm my subscription" in page.content.decode()
    assert Subscriber.objects.get().status == "pending"
    assert page["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"

    confirmed = csrf_post(client, path, page.content.decode(), {})
    assert confirmed.status_code == 200 and "You're subscribed" in confirmed.content.decode()
    assert Subscriber.objects.get().status == "confirmed"

    again = csrf_post(client, path, page.content.decode(), {})
    assert again.status_code == 410
    assert "already been used" in again.content.decode()


def test_the_answer_is_the_same_for_new_pending_and_confirmed(smtp):
    Subscriber.objects.create(email="pending@example.com")
    Subscriber.objects.create(email="member@example.com", status="confirmed")
    answers = set()
    for address in ("new@example.com", "pending@example.com", "member@example.com"):
        for accept in ("application/json", "text/html"):
            response = Client().post("/newsletter/subscribe", {"email": address}, HTTP_ACCEPT=accept)
            answers.add((accept, response.status_code, response.content))
    assert len(answers) == 2  # one answer per format, whoever asks
    assert smtp.to("member@example.com") == []  # a confirmed reader gets no second link
    assert len(smtp.to("new@example.com")) == 1  # asked twice, one email within minutes
    assert len(smtp.to("pending@example.com")) == 1


def test_htmx_gets_a_fragment_that_replaces_the_form(smtp):
    response = Client().post("/newsletter/subscribe", {"email": "fan@example.com"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and DONE in body and "<html" not in body


@pytest.mark.parametrize("address", ["", "not-an-email", "a@b", "x" * 250 + "@example.com"])
def test_an_invalid_address_is_refused_and_nothing_is_stored(smtp, address):
    page = Client().post("/newsletter/subscribe", {"email": address})
    assert page.status_code == 400
    assert "email address" in page.content.decode() and 'method="post"' in page.content.decode()
    fragment = Client().post("/newsletter/subscribe", {"email": address}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 400 and "<html" not in fragment.content.decode()
    as_json = Client().post("/newsletter/subscribe", {"email": address}, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400 and "email address" in as_json.json()["error"]
    assert not Subscriber.objects.exists() and smtp.messages == []


def test_a_suppressed_address_gets_the_same_answer_and_no_email(smtp):
    Suppression.objects.create(email="bounced@example.com", reason="bounce")
    response = Client().post("/newsletter/subscribe", {"email": "Bounced@example.com"})
    assert response.status_code == 200 and DONE in response.content.decode()
    assert smtp.messages == [] and not Subscriber.objects.exists()


def test_an_expired_link_says_so_and_offers_the_form(smtp, settings, monkeypatch):
    sub = Subscriber.objects.create(email="late@example.com", confirm_nonce="n1")
    week_ago = time.time() - (settings.CONFIRM_DAYS * 86400 + 60)
    monkeypatch.setattr(signing.time, "time", lambda: week_ago)
    token = sub.confirm_token()
    monkeypatch.undo()
    page = Client().get(f"/newsletter/confirm/{token}")
    assert page.status_code == 410 and "expired" in page.content.decode()
    assert 'name="email"' in page.content.decode()
    forged = signing.dumps({"s": sub.pk, "n": "guess"}, salt=CONFIRM_SALT)
    assert "already been used" in Client().get(f"/newsletter/confirm/{forged}").content.decode()
    assert "not valid" in Client().get("/newsletter/confirm/garbage").content.decode()
    assert Subscriber.objects.get().status == "pending"


def test_the_box_on_cached_pages_holds_nothing_per_reader(seed_pair):
    for url in ("/", "/tools/code-llama-4", "/compare/code-llama-4-vs-mistral-3-small-22b", "/newsletter/"):
        response = Client().get(url)
        body = response.content.decode()
        assert 'class="newsletter-box"' in body, url
        assert 'name="csrfmiddlewaretoken" value=""' in body, url
        assert "public" in response["Cache-Control"], url
        assert "csrftoken" not in response.cookies, url


def test_the_no_javascript_page_is_private_and_prefilled():
    # The box posts the address (never a GET: it would sit in the URL and the access log).
    response = Client().post("/newsletter/subscribe/form", {"email": "me@example.com"})
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    body = response.content.decode()
    assert 'value="me@example.com"' in body and 'method="post"' in body and "Subscribe" in body
