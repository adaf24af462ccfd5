"""The sitemap's XML is built as plain strings (sharing/sitemaps.py): byte for byte what Django's
sitemap framework and templates wrote from the same rows, which the reference below does the
plain way (every row through Sitemap.get_urls and the template engine, MAX over joins), on
catalogs in several states: all reviewed, partly reviewed, a lone reviewed tool, empty."""

import itertools
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem
from django.contrib.sitemaps.views import sitemap as django_sitemap
from django.core.cache import cache
from django.db.models import F, Max
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape as django_escape

from shiporskip.catalog.models import Category, Tool
from shiporskip.compare.comparison import canonical_pair
from shiporskip.panel.models import PanelRun, Persona
from shiporskip.sharing import sitemaps
from tests.conftest import tool_entry

SITE = "https://verdicts.example.com"


# The reference: the sitemap as Django's framework builds it ----------------------------------


class OnSite(Sitemap):
    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


def latest_done():
    return PanelRun.objects.filter(status=PanelRun.Status.DONE).aggregate(at=Max("finished_at"))["at"]


def latest_tool():
    return Tool.objects.aggregate(at=Max("current_run__finished_at"))["at"]


class Pages(OnSite):
    changefreq = "daily"

    def items(self):
        return [reverse(name) for name in ("catalog:home", "catalog:tools", "panel:personas")]

    def location(self, item):
        return item

    def lastmod(self, item):
        return latest_done()

    def get_latest_lastmod(self):
        return latest_done()


class Tools(OnSite):
    limit = sitemaps.ToolSitemap.limit

    def items(self):
        return Tool.objects.order_by("pk").annotate(verdict_at=F("current_run__finished_at"))

    def lastmod(self, tool):
        return tool.verdict_at

    def get_latest_lastmod(self):
        return latest_tool()


class Categories(OnSite):
    def items(self):
        return Category.objects.order_by("pk").annotate(verdict_at=Max("tools__current_run__finished_at"))

    def lastmod(self, category):
        return category.verdict_at

    def get_latest_lastmod(self):
        return latest_tool()


class Panel(OnSite):
    def items(self):
        return Persona.objects.active()

    def lastmod(self, persona):
        return latest_done()

    def get_latest_lastmod(self):
        return latest_done()


def every_pair() -> list[tuple[str, object]]:
    """Each category's reviewed tools two by two, in the database's slug order, categories by id."""
    reviewed = Tool.objects.reviewed().order_by("category_id", "slug")
    rows = reviewed.values_list("category_id", "slug", "current_run__finished_at")
    pairs = []
    for _, group in itertools.groupby(rows, key=lambda row: row[0]):
        for (_, a, at_a), (_, b, at_b) in itertools.combinations(list(group), 2):
            pairs.append((reverse("compare:pair", args=["-vs-".join(canonical_pair(a, b))]), max(at_a, at_b)))
    return pairs


class Comparisons(OnSite):
    limit = sitemaps.ComparisonSitemap.limit

    def items(self):
        return every_pair()

    def location(self, pair):
        return pair[0]

    def lastmod(self, pair):
        return pair[1]

    def get_latest_lastmod(self):
        return max((at for _, at in every_pair()), default=None)


REFERENCE = {"pages": Pages, "tools": Tools, "categories": Categories, "panel": Panel, "compare": Comparisons}


def reference_index() -> bytes:
    items = []
    for section, cls in REFERENCE.items():
        sitemap = cls()
        url = settings.SITE_URL + reverse("sharing:sitemap_section", kwargs={"section": section})
        lastmod = sitemap.get_latest_lastmod()
        items.append(SitemapIndexItem(url, lastmod))
        pages = range(2, sitemap.paginator.num_pages + 1)
        items += [SitemapIndexItem(f"{url}?p={page}", lastmod) for page in pages]
    return render_to_string("sitemap_index.xml", {"sitemaps": items}).encode()


def reference_page(section: str, page: int):
    request = RequestFactory().get(f"/sitemap-{section}.xml", {"p": page})
    response = django_sitemap(request, sitemaps=REFERENCE, section=section)
    return response.render()


# The comparison ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def small_pages(settings, monkeypatch):
    """Pages of a few rows, so that a small catalog has many; the site on a public name; the
    page cache off (a stored page's Last-Modified is when it was stored, not the view's)."""
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["*"]
    settings.PAGE_CACHE_SECONDS = 0
    sizes = ((sitemaps.ToolSitemap, Tools, 7), (sitemaps.ComparisonSitemap, Comparisons, 40))
    for ours, theirs, size in sizes:
        monkeypatch.setattr(ours, "limit", size)
        monkeypatch.setattr(theirs, "limit", size)


def assert_same_sitemap(expect_pages: bool = True):
    client = Client(HTTP_HOST="internal.invalid:8080")
    cache.clear()
    index = client.get("/sitemap.xml")
    assert index.status_code == 200 and index["Content-Type"] == "application/xml"
    assert index.content == reference_index()
    for section, cls in REFERENCE.items():
        pages = cls().paginator.num_pages
        if expect_pages and section in ("tools", "compare"):
            assert pages > 1, section
        for page in range(1, pages + 1):
            ours, theirs = client.get(f"/sitemap-{section}.xml?p={page}"), reference_page(section, page)
            assert ours.status_code == 200, (section, page)
            assert ours.content == theirs.content, (section, page)
            assert ours.get("Last-Modified") == theirs.get("Last-Modified"), (section, page)
            assert ours["Content-Type"] == theirs["Content-Type"] == "application/xml"
            assert ours["X-Robots-Tag"] == "noindex, noodp, noarchive"
        assert client.get(f"/sitemap-{section}.xml?p={pages + 1}").status_code == 404
        assert client.get(f"/sitemap-{section}.xml?p=0").status_code == 404
        assert client.get(f"/sitemap-{section}.xml?p=one").status_code == 404
    assert client.get("/sitemap-compare.xml").content == reference_page("compare", 1).content


def test_the_whole_reviewed_catalog(reviewed):
    assert_same_sitemap()


def test_days_are_the_current_time_zone_s(reviewed, settings):
    # Verdicts just before midnight UTC: a day later in Tokyo, the day the template showed.
    late = timezone.now().replace(hour=23, minute=30)
    PanelRun.objects.filter(pk__in=Tool.objects.values("current_run")[:20]).update(finished_at=late)
    with timezone.override("Asia/Tokyo"):
        assert_same_sitemap()


def test_a_partly_reviewed_catalog(reviewed):
    """Tools with no verdict (no lastmod, no Last-Modified), a category with no reviewed tool,
    one with a lone reviewed tool (no pairs) whose current run has no finished time, finished
    runs newer than any shown that no tool shows."""
    categories = list(Category.objects.order_by("pk"))
    lone, none = categories[0], categories[1]
    Tool.objects.filter(category=none).update(current_run=None)
    lone_tools = list(Tool.objects.filter(category=lone).order_by("slug"))
    Tool.objects.filter(pk__in=[t.pk for t in lone_tools[1:]]).update(current_run=None)
    # The latest finished run overall belongs to a tool that now shows none.
    newest = PanelRun.objects.filter(tool__category=none).first()
    PanelRun.objects.filter(pk=newest.pk).update(finished_at=timezone.now() + timezone.timedelta(days=3))
    PanelRun.objects.filter(pk=lone_tools[-1].runs.first().pk).update(
        finished_at=timezone.now() + timezone.timedelta(days=2)
    )
    unfinished = PanelRun.objects.create(tool=lone_tools[0], model="offline", status=PanelRun.Status.DONE)
    Tool.objects.filter(pk=lone_tools[0].pk).update(current_run=unfinished)
    assert_same_sitemap()


def test_a_catalog_with_one_reviewed_tool_and_no_pairs(catalog):
    from shiporskip.panel.running import review_tool

    review_tool(tool=Tool.objects.select_related("category").order_by("pk").first(), model="offline")
    assert_same_sitemap(expect_pages=False)


def test_an_empty_catalog(personas):
    assert_same_sitemap(expect_pages=False)


def test_a_new_category_with_unreviewed_tools(reviewed):
    from shiporskip.catalog.loading import load_catalog

    load_catalog(
        {
            "categories": [{"name": "Brand New", "slug": "brand-new", "description": "Just added."}],
            "tools": [tool_entry(f"Fresh {i}", category="brand-new") for i in range(3)],
        }
    )
    assert_same_sitemap()


def test_escaping_is_django_s():
    text = "".join(map(chr, range(1, 300))) + "&amp;<>\"'"
    assert sitemaps.escape(text) == django_escape(text)


def test_a_sitemap_index_costs_the_same_queries_whatever_the_catalog(reviewed, django_assert_num_queries):
    client = Client(HTTP_HOST="internal.invalid:8080")
    cache.clear()
    with django_assert_num_queries(7):
        client.get("/sitemap.xml")
    Tool.objects.update(current_run=None)
    cache.clear()
    with django_assert_num_queries(7):
        client.get("/sitemap.xml")
