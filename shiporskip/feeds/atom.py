"""Atom feeds of verdict events: the whole site's, and one per category.

An entry is one verdict event (panel/history.py's `verdict_events`): a tool's first panel
verdict, or a re-review that moved its tally. Its id names the run, so it never changes and
no two events share one; readers see a changed verdict as a new entry, not an edit.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import conditional_page

from shiporskip.catalog.models import Category
from shiporskip.catalog.tallies import PanelTally
from shiporskip.pages import panel_only, public
from shiporskip.panel.history import verdict_events
from shiporskip.sharing.links import absolute  # feeds are read away from the site: SITE_URL


def tally_phrase(ship: int, skip: int) -> str:
    tally = PanelTally(ship=ship, skip=skip)
    return tally.label if tally.total else "No verdict (every reviewer abstained)"


def was_phrase(run) -> str:
    """What the verdict was before: the word when it flipped, else the counts that moved."""
    if run.prev_ship is None:
        return ""
    before, now = PanelTally(run.prev_ship, run.prev_skip), PanelTally(run.ship, run.skip)
    if not before.total:
        return " (was no verdict)"
    if before.verdict != now.verdict:
        return f" (was {before.verdict})"
    return f" (was {before.ship} ship / {before.skip} skip)"


def event_title(run) -> str:
    return f"{run.tool.name}: {tally_phrase(run.ship, run.skip)}{was_phrase(run)}"


def persona_rows(run) -> list[dict]:
    return [
        {
            "name": r.persona.name,
            "score": r.score,
            "verdict": r.verdict,
            "before": run.previous_scores.get(r.persona.key),
        }
        for r in run.reviews.all()
    ]


class VerdictsFeed(Feed):
    feed_type = Atom1Feed
    language = "en"
    author_name = "Ship or Skip"
    description_template = "feeds/entry.html"
    title = "Ship or Skip: new and changed verdicts"
    subtitle = "Each time the panel's verdict on a tool comes out or changes."

    def link(self):
        return absolute("/")

    def feed_url(self):
        return absolute(reverse("feeds:verdicts"))

    def items(self):
        return verdict_events()

    def item_title(self, run):
        return event_title(run)

    def item_link(self, run):
        return absolute(run.tool.get_absolute_url())

    def item_guid(self, run):
        # A tag URI (RFC 4151) naming the run: the same on every request, one per event.
        host = urlsplit(settings.SITE_URL).hostname
        return f"tag:{host},{run.finished_at:%Y-%m-%d}:shiporskip/verdict/{run.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, run):
        return run.finished_at

    def item_updateddate(self, run):
        return run.finished_at

    def item_categories(self, run):
        return [run.tool.category.name]

    def get_context_data(self, **kwargs):
        run = kwargs["item"]
        return {
            **kwargs,
            "run": run,
            "tool_url": self.item_link(run),
            "rows": persona_rows(run),
            "first": run.prev_ship is None,
        }


class CategoryVerdictsFeed(VerdictsFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Category, slug=slug)

    def title(self, category):
        return f"Ship or Skip: {category.name} verdicts"

    def subtitle(self, category):
        return f"Each time the panel's verdict on a tool in {category.name} comes out or changes."

    def link(self, category):
        return absolute(category.get_absolute_url())

    def feed_url(self, category):
        return absolute(reverse("feeds:category", args=[category.slug]))

    def items(self, category):
        return verdict_events(category=category)


def cached(feed):
    """Public caching, and an ETag over the body so a polling reader gets 304 when nothing moved."""
    return conditional_page(public(feed, shows=panel_only))  # verdicts only: a vote keeps it


verdicts = cached(VerdictsFeed())
category_verdicts = cached(CategoryVerdictsFeed())
