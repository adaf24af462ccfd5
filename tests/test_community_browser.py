"""Votes, bookmarks and sign-up in real chromium, with JavaScript on and off."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from shiporskip.community.models import Bookmark, Vote
from tests.community import CODE_LLAMA, COMPARE, MISTRAL, counts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TALLY = f'table.decision [data-tally="{CODE_LLAMA}"]'


def open_compare(browser, live_server, **context):
    page = browser.new_context(**context).new_page()
    page.goto(live_server.url + COMPARE)
    return page


def test_vote_and_bookmark_by_click_without_a_reload(seed_pair, live_server, browser):
    page = open_compare(browser, live_server)
    page.wait_for_selector("html[data-reader=ready]")
    page.evaluate("window.sameDocument = true")
    page.get_by_role("button", name="Vote ship for Code Llama 4").click()
    page.wait_for_selector(f'.vote[data-tool="{CODE_LLAMA}"] .vote-ship[aria-pressed="true"]')
    assert page.locator(TALLY).inner_text() == "Ship 100% · 1 vote"
    page.get_by_role("button", name="Vote skip for Code Llama 4").click()
    # expect() polls without eval, which the site's Content-Security-Policy refuses.
    expect(page.locator(TALLY)).to_have_text("Skip 100% · 1 vote")
    page.get_by_role("button", name="Take back").click()
    expect(page.locator(TALLY)).to_have_text("No community votes yet")
    assert counts(CODE_LLAMA) == {"ship": 0, "skip": 0}

    page.get_by_role("button", name="Bookmark Mistral 3 Small (22B)").click()
    page.wait_for_selector(".bookmarks-panel .bookmark-list >> text=Mistral 3 Small (22B)")
    assert page.get_by_role("button", name="Bookmark Mistral 3 Small (22B)").inner_text() == "★ Bookmarked"
    assert page.evaluate("window.sameDocument") is True  # htmx swapped widgets; the page never reloaded
    assert list(Bookmark.objects.values_list("tool__slug", flat=True)) == [MISTRAL]


def test_forms_work_with_javascript_off(seed_pair, live_server, browser):
    page = open_compare(browser, live_server, java_script_enabled=False)
    assert "No bookmarks yet" not in page.content()  # the panel is a plain link without JavaScript
    page.get_by_role("button", name="Vote skip for Code Llama 4").click()
    page.wait_for_url(f"**/tools/{CODE_LLAMA}/vote?**")
    assert "Press Skip to confirm" in page.locator("main").inner_text()
    page.get_by_role("button", name="Vote skip for Code Llama 4").click()
    # Back on the confirm page, which shows the reader's vote (a cached page cannot), then back.
    page.wait_for_url(f"**/tools/{CODE_LLAMA}/vote?next=**")
    assert "You voted Skip on Code Llama 4." in page.locator("main").inner_text()
    assert counts(CODE_LLAMA) == {"ship": 0, "skip": 1}
    # The tally as it is now (the page it came from may be a cached copy for a minute).
    assert page.locator(f'main [data-tally="{CODE_LLAMA}"]').inner_text() == "Skip 100% · 1 vote"
    page.get_by_role("link", name="← Back").click()
    page.wait_for_url(f"**{COMPARE}")

    page.get_by_role("button", name="Bookmark Code Llama 4").click()
    page.get_by_role("button", name="Bookmark Code Llama 4").click()
    page.wait_for_url(f"**/tools/{CODE_LLAMA}/bookmark?next=**")
    page.get_by_role("link", name="Your bookmarks").click()
    assert "Code Llama 4" in page.locator("main").inner_text()
    assert Bookmark.objects.count() == 1


def test_anonymous_votes_survive_sign_up(seed_pair, live_server, browser):
    page = open_compare(browser, live_server)
    page.wait_for_selector("html[data-reader=ready]")
    page.get_by_role("button", name="Vote ship for Code Llama 4").click()
    # Wait for each answer: leaving the page while a post is in flight cancels it.
    page.wait_for_selector(f'.vote[data-tool="{CODE_LLAMA}"][data-live] .vote-ship[aria-pressed="true"]')
    page.get_by_role("button", name="Bookmark Mistral 3 Small (22B)").click()
    page.wait_for_selector(".bookmarks-panel .bookmark-list")
    page.goto(live_server.url + "/accounts/signup")
    page.get_by_label("Email").fill("reader@example.com")
    page.get_by_label("Password:", exact=True).fill("a long passphrase")
    page.get_by_label("Password confirmation").fill("a long passphrase")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/accounts/signup/sent")  # no account until the emailed link is followed
    link = re.search(r"http://127.0.0.1:8000(/accounts/signup/finish/\S+)", mail.outbox[-1].body).group(1)
    page.goto(live_server.url + link)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/bookmarks")
    assert "Mistral 3 Small (22B)" in page.locator("main").inner_text()
    page.goto(live_server.url + COMPARE)
    page.wait_for_selector("html[data-reader=ready]")
    assert page.locator("[data-account]").inner_text() == "reader@example.com"
    ship = page.get_by_role("button", name="Vote ship for Code Llama 4")
    assert ship.get_attribute("aria-pressed") == "true"
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(email="reader@example.com")
    assert list(Vote.objects.values_list("voter", "verdict")) == [(f"u:{user.pk}", "ship")]


def test_if_the_readers_state_cannot_load_forms_still_work(seed_pair, live_server, browser):
    page = browser.new_context().new_page()
    page.route("**/me?*", lambda route: route.abort())
    page.goto(live_server.url + COMPARE)
    expect(page.locator("form[hx-post].vote-form")).to_have_count(0)  # made plain
    page.get_by_role("button", name="Vote ship for Code Llama 4").click()
    page.wait_for_url(f"**/tools/{CODE_LLAMA}/vote?**")  # the confirm page, as without JavaScript
    page.get_by_role("button", name="Vote ship for Code Llama 4").click()  # its form carries a token
    page.wait_for_selector('.vote-ship[aria-pressed="true"]')
    assert counts(CODE_LLAMA) == {"ship": 1, "skip": 0}
