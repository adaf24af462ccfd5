"""One-click unsubscribe (RFC 8058): a cookie-less POST works at once; a GET changes nothing."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from shiporskip.newsletter import editions
from shiporskip.newsletter.delivery import send_edition
from shiporskip.newsletter.models import Subscriber
from shiporskip.panel.models import PanelRun
from tests.smtp import subscribers

pytestmark = pytest.mark.django_db


def unsubscribe_url(message) -> str:
    return urlsplit(message["List-Unsubscribe"].strip().split(">")[0].lstrip("<")).path


def test_one_click_unsubscribe_with_no_cookies_and_no_mail_after(seed_pair, smtp):
    subscribers(3)
    send_edition(editions.publish())
    url = unsubscribe_url(smtp.to("reader1@example.com")[0])

    mail_client = Client(enforce_csrf_checks=True)
    page = mail_client.get(url)  # a link scanner, or a reader who has not clicked yet
    assert page.status_code == 200 and "Unsubscribe" in page.content.decode()
    assert Subscriber.objects.get(email="reader1@example.com").status == "confirmed"

    response = mail_client.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200 and not response.cookies
    assert Subscriber.objects.get(email="reader1@example.com").status == "unsubscribed"

    tool = seed_pair[0]
    PanelRun.objects.filter(tool=tool, status="done").update(finished_at=timezone.now())
    send_edition(editions.publish())
    assert smtp.per_recipient() == {
        "reader0@example.com": 2,
        "reader1@example.com": 1,
        "reader2@example.com": 2,
    }


def test_a_wrong_token_unsubscribes_nobody():
    subscribers(1)
    response = Client(enforce_csrf_checks=True).post(
        "/newsletter/unsubscribe/not-a-token", {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 404
    assert Subscriber.objects.get().status == "confirmed"
