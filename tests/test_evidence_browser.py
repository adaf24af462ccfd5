"""The Evidence panel, the comparison's evidence rows and the verdict's doubt, in real chromium."""

import pytest

from shiporskip.catalog.models import Tool
from shiporskip.panel.tally import panel_doubt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE])
def test_the_evidence_panel_shows_sources_dates_and_unknowns(catalog, live_server, browser, viewport):
    page = browser.new_page(viewport=viewport)
    page.goto(live_server.url + "/tools/cursor")
    panel = page.locator("section.evidence")
    assert panel.get_by_role("heading", name="Evidence").is_visible()
    assert "$20 a seat a month" in panel.inner_text()
    assert panel.locator("a.src").count() >= 3  # each figure links its source
    assert panel.locator(".asof").first.inner_text()[:2] == "20"  # and shows its date
    assert panel.locator(".unknown").count() >= 1  # an unknown is marked, not hidden
    assert "months ago" in panel.locator(".stale").inner_text()
    assert fits(page)


def pair_with_doubt():
    """Two reviewed tools of one category, one of which has a dissenting persona."""
    for tool in Tool.objects.exclude(current_run=None).select_related("category", "current_run"):
        doubt = panel_doubt(tool.current_run.reviews.select_related("persona"))
        if doubt.dissent:
            rival = tool.rivals(1)[0]
            return sorted([tool.slug, rival.slug]), doubt.dissent[0]
    raise AssertionError("no tool in the bundled catalog has a dissent")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE])
def test_the_comparison_shows_lead_sections_bars_margins_and_dissent(
    reviewed, live_server, browser, viewport
):
    slugs, dissent = pair_with_doubt()
    page = browser.new_page(viewport=viewport)
    page.goto(f"{live_server.url}/compare/{slugs[0]}-vs-{slugs[1]}")
    evidence = page.locator("table.evidence-table")
    assert evidence.locator("tbody tr").count() >= 2
    cards = page.locator("article.scorecard")
    assert cards.count() == 4
    for card in cards.all():
        assert card.locator(".bar-note").count() == 2  # "NN against a bar of NN (+N)" per tool
        assert card.locator("p.lead-section").count() == 2
        assert all(len(t.split()) >= 12 for t in card.locator("p.lead-section").all_inner_texts())
    assert page.locator(".dissent", has_text=f"Dissent, {dissent.persona.name}").count() >= 1
    assert fits(page)


def test_provisional_and_near_bar_marks(reviewed, live_server, browser):
    review = next(
        r
        for t in Tool.objects.exclude(current_run=None)
        for r in t.current_run.reviews.select_related("persona", "tool")
        if r.provisional
    )
    page = browser.new_page()
    page.goto(live_server.url + review.tool.get_absolute_url())
    article = page.locator(f"#review-{review.persona.key}")
    assert article.locator(".flag-provisional").inner_text() == "Provisional"
    assert "Not scored, facts unknown" in article.locator(".unknowns").inner_text()
