"""The newsletter box in real chromium, with JavaScript (htmx, no reload) and without."""

import pytest
from django.core import mail

from shiporskip.newsletter.models import Subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DONE = "Check your inbox: we sent a link to confirm."


def test_with_javascript_the_box_posts_in_place(seed_pair, live_server, browser):
    page = browser.new_page()
    page.goto(live_server.url + "/compare/code-llama-4-vs-mistral-3-small-22b")
    page.wait_for_selector("html[data-reader=ready]")
    assert page.locator("form.newsletter-box").evaluate("form => form.method") == "post"
    page.evaluate("window.stillHere = true")
    page.get_by_label("Email").fill("a@b")  # passes the browser's check, not the server's
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_text("doesn't look like an email address").wait_for()
    page.get_by_label("Email").fill("JS.Reader@example.com")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_text(DONE).wait_for()
    assert page.evaluate("window.stillHere") is True  # swapped in place: no page load
    assert page.url.endswith("/compare/code-llama-4-vs-mistral-3-small-22b")
    assert Subscriber.objects.get().email == "js.reader@example.com"
    assert [m.to for m in mail.outbox] == [["js.reader@example.com"]]


def test_without_javascript_one_more_click_subscribes(seed_pair, live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/tools/code-llama-4")
    page.get_by_label("Email").fill("plain@example.com")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/newsletter/subscribe/form")  # posted: the address is in no URL
    assert page.get_by_label("Email").input_value() == "plain@example.com"
    assert not Subscriber.objects.exists()
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_text(DONE).wait_for()
    assert Subscriber.objects.get().email == "plain@example.com"
    context.close()
