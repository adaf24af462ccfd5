"""Search in real chromium: suggestions as you type (1280 and 360 px), the results page with
JavaScript off, and the compare picker found by typing."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 360])
def test_suggestions_as_you_type(catalog, live_server, browser, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(live_server.url + "/")
    box = page.get_by_role("combobox", name="Search tools")
    box.press_sequentially("olama", delay=30)
    listbox = page.get_by_role("listbox", name="Suggested tools").first
    expect(listbox).to_be_visible()
    first = listbox.get_by_role("option").first
    expect(first).to_contain_text("Ollama")
    expect(box).to_have_attribute("aria-expanded", "true")
    # The list sits inside the page's width, under the box.
    box_at, list_at = box.bounding_box(), listbox.bounding_box()
    assert list_at["y"] >= box_at["y"] + box_at["height"] - 1
    assert list_at["x"] >= 0 and list_at["x"] + list_at["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box.press("ArrowDown")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    box.press("Escape")
    expect(listbox).to_be_hidden()
    box.press("ArrowDown")  # opens it again, on the first option
    box.press("Enter")
    page.wait_for_url("**/tools/ollama")


def test_enter_without_a_choice_opens_the_results_page(catalog, live_server, browser):
    page = browser.new_page()
    page.goto(live_server.url + "/tools/cursor")
    box = page.get_by_role("combobox", name="Search tools")
    box.fill("llamacpp")
    box.press("Enter")
    page.wait_for_url("**/search?q=llamacpp")
    expect(page.locator(".search-results li").first).to_contain_text("llama.cpp")


def test_results_page_without_javascript(catalog, live_server, browser):
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(live_server.url + "/")
    page.get_by_label("Search tools").fill("langchian")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/search?q=langchian")
    results = page.locator(".search-results li")
    expect(results.first.get_by_role("link")).to_have_text("LangChain")
    results.first.get_by_role("link").click()
    page.wait_for_url("**/tools/langchain")
    # The picker's search boxes stay hidden: the two plain selects are the picker.
    page.goto(live_server.url + "/")
    expect(page.locator(".pick-search").first).to_be_hidden()


@pytest.mark.parametrize("width", [1280, 360])
def test_the_compare_picker_by_typing(catalog, live_server, browser, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(live_server.url + "/#compare")
    first = page.get_by_role("combobox", name="Find the first pick by typing its name")
    first.press_sequentially("olla", delay=30)
    page.locator("#pick-a-list").get_by_role("option", name="Ollama").first.click()
    expect(page.get_by_label("First tool", exact=True)).to_have_value("ollama")
    expect(first).to_have_value("Ollama")
    second = page.get_by_role("combobox", name="Find the second pick by typing its name")
    second.press_sequentially("llamacpp", delay=30)
    expect(page.locator("#pick-b-list [role=option]").first).to_contain_text("llama.cpp")
    second.press("Enter")  # the first suggestion
    expect(page.get_by_label("Second tool", exact=True)).to_have_value("llamacpp")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url("**/compare/llamacpp-vs-ollama")  # canonical order, no stray q=
    assert page.get_by_role("heading", level=1).inner_text() == "llama.cpp vs Ollama"
