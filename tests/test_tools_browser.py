"""All tools, a category ranking and alternatives in real chromium, at 1280 and 360 px, by links
alone (JavaScript off at 360 px: every filter, sort and page must still work)."""

import os
import re

import pytest
from playwright.sync_api import expect

from shiporskip.catalog.models import Tool

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("SHIPORSKIP_SCREENSHOTS")  # a folder for screenshots, when asked for


def fits(page, width: int):
    """Nothing wider than the window: no sideways scrolling on a phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize(("width", "javascript"), [(1280, True), (360, False)])
def test_filter_sort_and_page_through_all_tools_by_links(reviewed, live_server, browser, width, javascript):
    total = Tool.objects.count()
    open_weights = Tool.objects.filter(facts__open_weights=True).count()
    page = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=javascript
    ).new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=f"All {total} tools →").click()
    page.wait_for_url("**/tools")
    expect(page.locator("main h1")).to_have_text("All tools")
    expect(page.get_by_role("status")).to_have_text(f"All {total} tools in the catalog.")
    fits(page, width)

    page.locator("section.filter-group", has=page.get_by_role("heading", name="Open weights")).get_by_role(
        "link", name="Yes"
    ).click()
    page.wait_for_url("**/tools?open_weights=yes")
    expect(page.get_by_role("status")).to_have_text(f"{open_weights} tools match your filters.")
    page.get_by_role("navigation", name="Sort").get_by_role("link", name="Price").click()
    page.wait_for_url("**/tools?open_weights=yes&sort=price")
    rows = page.locator("li.tool-row h3 a")
    expect(rows).to_have_count(min(open_weights, 24))
    assert "Open weights: Yes" in page.locator(".active-filters").inner_text()
    fits(page, width)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/tools-filters-{width}.png")

    page.get_by_role("link", name=re.compile(r"Open weights: Yes.*remove")).click()
    page.wait_for_url("**/tools?sort=price")
    expect(page.get_by_role("status")).to_have_text(f"All {total} tools in the catalog.")
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url("**/tools?sort=price&page=2")
    expect(page.get_by_text("Page 2 of 3")).to_be_visible()
    page.get_by_role("link", name="← Previous").click()
    page.wait_for_url("**/tools?sort=price")


@pytest.mark.parametrize("width", [1280, 360])
def test_a_category_ranking_and_a_tools_alternatives(reviewed, live_server, browser, width):
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(live_server.url + "/categories/coding-assistants")
    expect(page.get_by_role("heading", level=2, name=re.compile("ranked by panel score"))).to_be_visible()
    first = page.locator("li.tool-row").first
    expect(first.locator(".rank")).to_have_text("Rank 1")
    fits(page, width)
    page.get_by_role("navigation", name="Sort").get_by_role("link", name="Newest").click()
    page.wait_for_url("**/categories/coding-assistants?sort=newest")
    expect(page.get_by_role("heading", level=2, name=re.compile("ranked by newest"))).to_be_visible()

    page.goto(live_server.url + "/tools/cursor")
    page.get_by_role("link", name="Alternatives to Cursor →").click()
    page.wait_for_url("**/tools/cursor/alternatives")
    fits(page, width)
    rival = Tool.objects.get(slug="cursor").rivals(1)[0]
    page.get_by_role("link", name=f"Cursor vs {rival.name}").click()
    page.wait_for_url("**/compare/*-vs-*")
    expect(page.locator("main h1")).to_contain_text(rival.name)
