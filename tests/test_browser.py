"""The compare picker in real chromium, driven by Playwright."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pick_two_tools_and_land_on_the_canonical_comparison(seed_pair, live_server, browser):
    page = browser.new_page()
    page.goto(live_server.url + "/")
    page.get_by_label("First tool").select_option(label="Mistral 3 Small (22B)")
    page.get_by_label("Second tool").select_option(label="Code Llama 4")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url("**/compare/code-llama-4-vs-mistral-3-small-22b")
    assert page.title() == (
        "Code Llama 4 vs Mistral 3 Small (22B): Which AI Tool Should You Ship? — Ship or Skip"
    )
    assert page.get_by_role("heading", level=1).inner_text() == "Code Llama 4 vs Mistral 3 Small (22B)"
    rows = page.locator("table.decision:not(.evidence-table) tbody th").all_inner_texts()
    assert rows == ["Panel verdict", "How sure", "Community", "Pricing", "Best for", "Category"]
    assert page.get_by_text("/100 · ship").count() + page.get_by_text("/100 · skip").count() == 8


def test_comparison_page_fits_a_phone(seed_pair, live_server, browser):
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto(live_server.url + "/compare/code-llama-4-vs-mistral-3-small-22b")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
