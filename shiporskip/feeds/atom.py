"""Atom feeds of verdict events: the whole site's, and one per category.

An entry is one verdict event (panel/history.py's `verdict_events`): a tool's first panel
verdict, or a re-review that moved its tally. Its id names the run, so it never changes and
no two events share one; readers see a changed verdict as a new entry, not an edit.

The XML is the bytes Django's syndication framework (Feed, Atom1Feed, an entry template per
summary) wrote, built as plain strings: that machinery cost some 25 ms for 50 entries, most of
it in the SAX writer and the template engine (tests/test_feeds_xml.py holds the two equal).
"""

import datetime
import html
import re
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.encoding import iri_to_uri
from django.utils.http import http_date
from django.utils.timezone import get_default_timezone, is_naive, make_aware
from django.utils.xmlutils import UnserializableContentError
from django.views.decorators.http import conditional_page

from shiporskip.catalog.models import Category
from shiporskip.catalog.tallies import PanelTally
from shiporskip.pages import panel_only, public
from shiporskip.panel.history import verdict_events
from shiporskip.sharing.links import absolute  # feeds are read away from the site: SITE_URL

TITLE = "Ship or Skip: new and changed verdicts"
SUBTITLE = "Each time the panel's verdict on a tool comes out or changes."
AUTHOR = "Ship or Skip"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<feed xml:lang="en" xmlns="http://www.w3.org/2005/Atom">'


# What an entry says ------------------------------------------------------------------------


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


def event_guid(run) -> str:
    # A tag URI (RFC 4151) naming the run: the same on every request, one per event.
    host = urlsplit(settings.SITE_URL).hostname
    return f"tag:{host},{run.finished_at:%Y-%m-%d}:shiporskip/verdict/{run.pk}"


def persona_line(review, before) -> str:
    """One persona's <li>: its score and verdict, and its score before when that moved."""
    name = html.escape(review.name)
    if review.score is None:
        return f"<li>{name}: no verdict (nothing it weighs is known)</li>"
    was = f" (was {before})" if before is not None and before != review.score else ""
    return f"<li>{name}: {review.score}/100, {html.escape(review.verdict)}{was}</li>"


def summary(run, tool_url: str) -> str:
    """The entry's HTML, autoescaped as the entry template (feeds/entry.html) wrote it."""
    name = html.escape(run.tool.name)
    said = (
        f"The panel's first verdict on {name}"
        if run.prev_ship is None
        else (f"The panel's verdict on {name} changed")
    )
    rows = "".join(persona_line(r, run.previous_scores.get(r.key)) for r in run.panel)
    return (
        f"<p>{said}: {run.ship} ship, {run.skip} skip ({html.escape(run.tool.category.name)}).</p>\n"
        f"<ul>{rows}</ul>\n"
        f'<p><a href="{html.escape(tool_url)}">Read the reviews of {name}</a></p>\n'
    )


# XML, as Django's Atom1Feed wrote it --------------------------------------------------------


def element(name: str, text: str) -> str:
    """SimplerXMLGenerator.addQuickElement: text escaped (& < > only), `<name/>` when empty."""
    return f"<{name}>{xml_escape(text)}</{name}>" if text else f"<{name}/>"


def rfc3339(moment: datetime.datetime) -> str:
    return moment.isoformat() + ("Z" if moment.utcoffset() is None else "")


def aware(moment):
    """The syndication view's dates: a naive one is read in the default time zone."""
    return make_aware(moment, get_default_timezone()) if moment and is_naive(moment) else moment


def entry(run) -> str:
    link = absolute(run.tool.get_absolute_url())
    at = aware(run.finished_at)
    dates = f"{element('published', rfc3339(at))}{element('updated', rfc3339(at))}" if at else ""
    return (
        f"<entry>{element('title', event_title(run))}"
        f'<link href={quoteattr(iri_to_uri(link))} rel="alternate"/>{dates}'
        f"{element('id', event_guid(run))}"
        f'<summary type="html">{xml_escape(summary(run, link))}</summary>'
        f"<category term={quoteattr(run.tool.category.name)}/></entry>"
    )


# Characters XML 1.0 cannot hold: the SAX writer refused them (a server error, not bad XML).
UNSERIALIZABLE = re.compile(r"[\x00-\x08\x0B-\x0C\x0E-\x1F]")


def atom(*, title: str, subtitle: str, link: str, feed_url: str, runs) -> HttpResponse:
    """The feed's response: the body and headers Django's Feed view gave for these events."""
    dates = [at for at in (aware(run.finished_at) for run in runs) if at]
    # max() keeps the first of equals, as the feed generator's loop did.
    latest = max(dates) if dates else datetime.datetime.now(tz=datetime.UTC)
    body = (
        f"{HEAD}{element('title', title)}"
        f'<link href={quoteattr(iri_to_uri(link))} rel="alternate"/>'
        f'<link href={quoteattr(iri_to_uri(feed_url))} rel="self"/>'
        f"{element('id', link)}{element('updated', rfc3339(latest))}"
        f"<author>{element('name', AUTHOR)}</author>{element('subtitle', subtitle)}"
        f"{''.join(map(entry, runs))}</feed>"
    )
    if UNSERIALIZABLE.search(body):
        raise UnserializableContentError("Control characters are not supported in XML 1.0")
    response = HttpResponse(body.encode("utf-8", "xmlcharrefreplace"), content_type=CONTENT_TYPE)
    response.headers["Last-Modified"] = http_date(latest.timestamp())
    return response


# The views ----------------------------------------------------------------------------------


def cached(feed):
    """Public caching, and an ETag over the body so a polling reader gets 304 when nothing moved."""
    return conditional_page(public(feed, shows=panel_only))  # verdicts only: a vote keeps it


@cached
def verdicts(request):
    return atom(
        title=TITLE,
        subtitle=SUBTITLE,
        link=absolute("/"),
        feed_url=absolute(reverse("feeds:verdicts")),
        runs=verdict_events(),
    )


@cached
def category_verdicts(request, slug):
    category = get_object_or_404(Category, slug=slug)
    return atom(
        title=f"Ship or Skip: {category.name} verdicts",
        subtitle=f"Each time the panel's verdict on a tool in {category.name} comes out or changes.",
        link=absolute(category.get_absolute_url()),
        feed_url=absolute(reverse("feeds:category", args=[category.slug])),
        runs=verdict_events(category=category),
    )
