"""A finished site in real chromium: the 404 and the decision table on a phone, JavaScript off,
and axe-core on every page type at 1280 and 360 px."""

from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import expect

from shiporskip.newsletter.models import Subscriber
from tests.community import CODE_LLAMA, COMPARE, counts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# axe-core as shipped in the axe-playwright-python wheel (the `test` extra).
AXE = Path(axe_playwright_python.__file__).with_name("axe.min.js").read_text()
SERIOUS = {"moderate", "serious", "critical"}
SHOTS = Path("/tmp/shots")  # noqa: S108 - where the lead collects screenshots


def page_at(browser, width: int, **context):
    return browser.new_context(viewport={"width": width, "height": 800}, **context).new_page()


def page_width(page) -> int:
    # evaluate() runs over the DevTools protocol: the site's CSP (no eval) does not apply.
    return page.evaluate("document.scrollingElement.scrollWidth")


@pytest.mark.parametrize("width", [1280, 360])
def test_the_404_page_is_styled_and_fits_a_phone(seed_pair, live_server, browser, width):
    page = page_at(browser, width)
    response = page.goto(live_server.url + "/no-such-page")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We can't find that page")
    assert page.get_by_role("navigation", name="Main").is_visible()
    assert page.get_by_role("button", name="Compare").is_visible()  # the picker
    assert (
        page.locator("header.site-header").evaluate("e => getComputedStyle(e).backgroundColor")
        == "rgb(26, 26, 46)"
    )  # the site's stylesheet applies
    assert page_width(page) <= width


@pytest.mark.parametrize("width", [1280, 390, 360])
def test_the_decision_table_reads_on_a_phone(seed_pair, live_server, browser, width):
    page = page_at(browser, width)
    page.goto(live_server.url + COMPARE)
    page.wait_for_selector("html[data-reader=ready]")
    assert page_width(page) <= width  # no sideways scrolling of the page
    pills = page.locator("table.decision .verdict")
    expect(pills).to_have_count(2)
    line = page.locator("table.decision th[scope=row]").first.evaluate(
        "e => parseFloat(getComputedStyle(e).lineHeight)"
    )
    for pill in pills.all():
        assert pill.bounding_box()["height"] < 1.6 * line, "a verdict pill wraps onto several lines"
    best_for = page.locator("table.decision tr", has_text="Best for").locator("td").first
    box = best_for.bounding_box()
    assert box["height"] < 6 * line and box["width"] >= (0.8 * (width - 40) if width < 600 else 200)
    if width < 600:
        # Stacked: each tool's value under its own name, the row's name above them.
        assert page.locator("table.decision thead").first.bounding_box()["height"] <= 1
        expect(best_for.locator(".cell-tool")).to_have_text("Code Llama 4")
    else:
        expect(page.locator("table.decision .cell-tool").first).to_be_hidden()
    if width == 360:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "compare-360.png"), full_page=True)


def test_without_javascript_the_reader_sees_their_vote_and_can_take_it_back(seed_pair, live_server, browser):
    page = page_at(browser, 360, java_script_enabled=False)
    page.goto(live_server.url + f"/tools/{CODE_LLAMA}")
    page.get_by_role("button", name="Vote ship for Code Llama 4").click()
    page.get_by_role("button", name="Vote ship for Code Llama 4").click()  # the confirm step
    page.wait_for_url(f"**/tools/{CODE_LLAMA}/vote?next=**")
    main = page.locator("main")
    expect(main).to_contain_text("You voted Ship on Code Llama 4.")
    page.get_by_role("button", name="Bookmark Code Llama 4").click()
    expect(main).to_contain_text("Code Llama 4 is in your bookmarks.")
    assert counts(CODE_LLAMA) == {"ship": 1, "skip": 0}

    # Later, from the (cached) tool page: the no-JavaScript link leads back to it all.
    page.goto(live_server.url + f"/tools/{CODE_LLAMA}")
    page.get_by_role("link", name="Your vote on Code Llama 4").click()
    expect(main).to_contain_text("You voted Ship on Code Llama 4.")
    expect(main).to_contain_text("Code Llama 4 is in your bookmarks.")
    page.get_by_role("button", name="Take back").click()
    expect(main).to_contain_text("You have not voted on Code Llama 4 yet.")
    assert counts(CODE_LLAMA) == {"ship": 0, "skip": 0}


def test_without_javascript_the_address_is_in_no_url(seed_pair, live_server, browser):
    page = page_at(browser, 360, java_script_enabled=False)
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(live_server.url + f"/tools/{CODE_LLAMA}")
    page.get_by_label("Email").fill("private.reader@example.com")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/newsletter/subscribe/form")
    assert page.get_by_label("Email").input_value() == "private.reader@example.com"
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_text("Check your inbox: we sent").wait_for()
    assert Subscriber.objects.get().email == "private.reader@example.com"
    assert len(urls) >= 3
    leaked = [u for u in urls if "private" in u.lower() or "example.com" in u.lower()]
    assert not leaked, leaked


def page_types(live_server, seed_pair) -> dict[str, str]:
    """One address per page type. Add new page types here."""
    from django.urls import Resolver404, resolve

    from shiporskip.newsletter import editions

    edition = editions.publish()
    pages = {
        "home": "/",
        "tools": "/tools",
        "tool": f"/tools/{CODE_LLAMA}",
        "comparison": COMPARE,
        "category": seed_pair[0].category.get_absolute_url(),
        "persona": "/panel/builder",
        "personas": "/panel/",
        "newsletter archive": "/newsletter/",
        "newsletter edition": f"/newsletter/{edition.number}",
        "sign in": "/accounts/signin",
        "sign up": "/accounts/signup",
        "bookmarks": "/bookmarks",
        "404": "/no-such-page",
        "vote confirm": f"/tools/{CODE_LLAMA}/vote?verdict=ship",
        "subscribe": "/newsletter/subscribe",
        "alternatives": f"/tools/{CODE_LLAMA}/alternatives",
        "search": "/search?q=llama",
    }
    # Pages other parts of the site add: checked once they exist.
    present = {}
    for name, url in pages.items():
        try:
            resolve(url.split("?")[0])
        except Resolver404:
            if name != "404":
                continue
        present[name] = url
    return present


@pytest.mark.parametrize("width", [1280, 360])
def test_axe_finds_nothing_moderate_or_worse_on_any_page_type(seed_pair, live_server, browser, width):
    pages = page_types(live_server, seed_pair)
    assert {
        "home",
        "tool",
        "comparison",
        "category",
        "persona",
        "personas",
        "newsletter edition",
        "sign in",
        "sign up",
        "bookmarks",
        "404",
    } <= set(pages)
    page = page_at(browser, width)
    # Bookmarks with a tool in them: the list has headings of its own.
    page.goto(live_server.url + f"/tools/{CODE_LLAMA}")
    page.wait_for_selector("html[data-reader=ready]")
    page.get_by_role("button", name="Bookmark Code Llama 4").click()
    page.wait_for_selector(".bookmarks-panel .bookmark-list")
    problems = []
    for name, url in pages.items():
        response = page.goto(live_server.url + url)
        assert response.status < 500, f"{name}: {url} answered {response.status}"
        assert page.locator("main").count() == 1, f"{name}: one main landmark"
        page.evaluate(AXE)  # over the DevTools protocol: the CSP's ban on eval does not apply
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        for v in result["violations"]:
            if v["impact"] in SERIOUS:
                problems.append(
                    f"{name} ({url}): {v['id']} ({v['impact']}) at "
                    f"{[n['target'] for n in v['nodes'][:3]]}: {v['help']}"
                )
    assert not problems, "\n".join(problems)
