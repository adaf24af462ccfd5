"""The Atom feeds are built as plain strings (feeds/atom.py): byte for byte the body and the
headers Django's syndication framework wrote from the same events, which the reference below
does the plain way (Feed and Atom1Feed, the entry template rendered for each summary), on
catalogs in several states: empty, one verdict, many events, awkward names, a category feed."""

import re

import pytest
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from shiporskip.catalog.loading import load_catalog
from shiporskip.catalog.models import Category, Tool
from shiporskip.feeds import atom
from shiporskip.panel.history import verdict_events
from shiporskip.sharing.links import absolute
from tests.conftest import tool_entry
from tests.test_feeds_badges import verdict

# The reference: the feeds as Django's framework built them ------------------------------------

ENTRY = (  # the entry template the feeds rendered each summary with (feeds/entry.html)
    "<p>{% if first %}The panel's first verdict on {{ run.tool.name }}{% else %}The panel's verdict on "
    "{{ run.tool.name }} changed{% endif %}: {{ run.ship }} ship, {{ run.skip }} skip "
    "({{ run.tool.category.name }}).</p>\n"
    "<ul>{% for row in rows %}<li>{{ row.name }}: {% if row.score is None %}no verdict (nothing it "
    "weighs is known){% else %}{{ row.score }}/100, {{ row.verdict }}{% if row.before is not None "
    "and row.before != row.score %} (was {{ row.before }}){% endif %}{% endif %}</li>{% endfor %}</ul>\n"
    '<p><a href="{{ tool_url }}">Read the reviews of {{ run.tool.name }}</a></p>\n'
)


class VerdictsFeed(Feed):
    feed_type = Atom1Feed
    language = "en"
    author_name = "Ship or Skip"
    title = "Ship or Skip: new and changed verdicts"
    subtitle = "Each time the panel's verdict on a tool comes out or changes."
    item_guid_is_permalink = False

    def __call__(self, request, *args, **kwargs):
        self.request = request  # the summaries render with it, as description_template did
        return super().__call__(request, *args, **kwargs)

    def link(self):
        return absolute("/")

    def feed_url(self):
        return absolute(reverse("feeds:verdicts"))

    def items(self):
        return verdict_events()

    def item_title(self, run):
        return atom.event_title(run)

    def item_description(self, run):
        rows = [
            {"name": r.name, "score": r.score, "verdict": r.verdict, "before": run.previous_scores.get(r.key)}
            for r in run.panel
        ]
        context = {"run": run, "tool_url": self.item_link(run), "rows": rows, "first": run.prev_ship is None}
        return engines["django"].from_string(ENTRY).render(context, self.request)

    def item_link(self, run):
        return absolute(run.tool.get_absolute_url())

    def item_guid(self, run):
        return atom.event_guid(run)

    def item_pubdate(self, run):
        return run.finished_at

    def item_updateddate(self, run):
        return run.finished_at

    def item_categories(self, run):
        return [run.tool.category.name]


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


# Both ways, compared ---------------------------------------------------------------------------

AWKWARD = 'Tom & Jerry\'s <b>"Ünïcode"</b> — 日本語'
CATEGORIES = [
    {"slug": "open-weight-models", "name": "Open-Weight Models"},
    {"slug": "developer-tools", "name": "Developer Tools"},
    {"slug": "odd-ones", "name": "Odd \"quoted\" & <tagged> 'ones' ü"},
    {"slug": "quoted", "name": 'Only "double" quotes'},
]
# An empty feed's time is the moment it is rendered: the two renders differ there alone.
NOW = re.compile(rb"(<feed [^>]*>.*?<updated>)[^<]*(</updated>)", re.S)


def add(name, category="open-weight-models") -> Tool:
    load_catalog({"categories": CATEGORIES, "tools": [tool_entry(name, category=category)]})
    return Tool.objects.select_related("category").get(name=name)


def assert_same(path, reference, ours, **kwargs):
    old = atom.cached(reference)(RequestFactory().get(path), **kwargs)
    new = ours(RequestFactory().get(path), **kwargs)
    old_body, new_body = old.content, new.content
    if b"<entry>" not in old_body:
        old_body, new_body = NOW.sub(rb"\1\2", old_body), NOW.sub(rb"\1\2", new_body)
        old.headers.pop("Last-Modified"), new.headers.pop("Last-Modified")
        old.headers.pop("ETag"), new.headers.pop("ETag")
    assert new.status_code == old.status_code == 200
    assert new_body == old_body
    assert list(new.headers.items()) == list(old.headers.items())


def assert_both_feeds_same():
    assert_same("/feeds/verdicts.atom", VerdictsFeed(), atom.verdicts)
    for slug in [c["slug"] for c in CATEGORIES]:
        path = reverse("feeds:category", args=[slug])
        assert_same(path, CategoryVerdictsFeed(), atom.category_verdicts, slug=slug)


@pytest.fixture(autouse=True)
def uncached(settings):
    settings.PAGE_CACHE_SECONDS = 0  # both renders are compared, not one served from the cache


def test_an_empty_catalog(personas):
    load_catalog({"categories": CATEGORIES, "tools": []})
    assert_both_feeds_same()
    assert b"<entry>" not in atom.verdicts(RequestFactory().get("/feeds/verdicts.atom")).content


def test_one_tool_with_a_first_verdict(personas):
    verdict(add("Alpha"), "ship", "ship", "skip", "none")
    assert_both_feeds_same()


def test_many_events_first_flips_moved_counts_and_abstentions(personas):
    tools = [add(f"Tool {i}", category=CATEGORIES[i % 4]["slug"]) for i in range(8)]
    for i in range(9):  # 72 runs: more than the 50 a feed shows
        for n, tool in enumerate(tools):
            flip = (i + n) % 3
            says = [["ship"] * 4, ["skip", "skip", "ship", "none"], ["none"] * 4][flip]
            scores = [[81 + i, 90, 70, 65], [10, 20 + i, 75, None], [None] * 4][flip]
            verdict(tool, *says, scores=scores)
    assert atom.verdicts(RequestFactory().get("/feeds/verdicts.atom")).content.count(b"<entry>") == 50
    for run in verdict_events():  # the rows an entry reads: each run's reviews, in their order
        assert run.panel == [(r.persona.key, r.persona.name, r.score, r.verdict) for r in run.reviews.all()]
    assert_both_feeds_same()


def test_awkward_names_in_titles_summaries_links_and_categories(personas):
    for name, category in [(AWKWARD, "odd-ones"), ('Say "hi"', "quoted"), ("It's <odd>", "odd-ones")]:
        tool = add(name, category=category)
        verdict(tool, "ship", "ship", "ship", "skip")
        verdict(tool, "skip", "skip", "skip", "skip")
    body = atom.verdicts(RequestFactory().get("/feeds/verdicts.atom")).content
    assert b"Tom &amp;amp; Jerry&amp;#x27;s &amp;lt;b&amp;gt;" in body  # a summary: HTML, in XML
    assert_both_feeds_same()


def test_a_missing_category_is_404_both_ways(db):
    from django.http import Http404

    for view in (atom.cached(CategoryVerdictsFeed()), atom.category_verdicts):
        with pytest.raises(Http404):
            view(RequestFactory().get("/categories/none/verdicts.atom"), slug="none")
