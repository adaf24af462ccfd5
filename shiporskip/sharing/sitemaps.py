"""sitemap.xml: a sitemap index with one paginated section per kind of page.

Every address is built on SITE_URL (not the request's Host), and `lastmod` is the latest
verdict: the finished time of a tool's current panel run, for a pair the later of the two.
Every section is cut into pages (tools and categories by LIMIT/OFFSET, comparisons by
arithmetic, see sharing/pairs.py), and each section's latest `lastmod` is one aggregate query,
so no request reads the whole catalog: at 10,000 tools the same-category pairs run to millions,
in pages of `PAIRS_PER_PAGE`, each read with a few small queries.
"""

from functools import cached_property
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem, x_robots_tag
from django.core.paginator import Paginator
from django.db.models import Count, F, Max
from django.template.response import TemplateResponse
from django.urls import reverse

from shiporskip.catalog.models import Category, Tool
from shiporskip.compare.comparison import canonical_pair
from shiporskip.pages import public
from shiporskip.panel.models import PanelRun, Persona
from shiporskip.sharing.pairs import Pairs

# The protocol allows 50,000 addresses per sitemap; pairs come in smaller pages so that one
# page is quick to build (and to cache) however large the catalog grows.
PAIRS_PER_PAGE = 1_000
TOOLS_PER_PAGE = 1_000


class SiteSitemap(Sitemap):
    """Addresses on SITE_URL, whatever Host the sitemap was asked for by."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


def latest_verdict():
    return PanelRun.objects.filter(status=PanelRun.Status.DONE).aggregate(at=Max("finished_at"))["at"]


class SiteWideSitemap(SiteSitemap):
    """Pages that show the whole panel: they change with any verdict (one query, kept)."""

    def lastmod(self, item):
        return self.latest

    def get_latest_lastmod(self):
        return self.latest

    @cached_property
    def latest(self):
        return latest_verdict()


class PagesSitemap(SiteWideSitemap):
    """The home page, the list of all tools and the panel: they change with every verdict."""

    changefreq = "daily"

    def items(self):
        return [reverse(name) for name in ("catalog:home", "catalog:tools", "panel:personas")]

    def location(self, item):
        return item


class ToolSitemap(SiteSitemap):
    # Pages of this many: a sitemap page costs the same at 40 tools or 10,000.
    limit = TOOLS_PER_PAGE

    def items(self):
        return Tool.objects.order_by("pk").annotate(verdict_at=F("current_run__finished_at")).only("slug")

    def lastmod(self, tool):
        return tool.verdict_at

    def get_latest_lastmod(self):
        return Tool.objects.aggregate(at=Max("current_run__finished_at"))["at"]


class CategorySitemap(SiteSitemap):
    def items(self):
        return (
            Category.objects.order_by("pk")
            .annotate(verdict_at=Max("tools__current_run__finished_at"))
            .only("slug")
        )

    def lastmod(self, category):
        return category.verdict_at

    def get_latest_lastmod(self):
        return Tool.objects.aggregate(at=Max("current_run__finished_at"))["at"]


class PersonaSitemap(SiteWideSitemap):
    def items(self):
        return Persona.objects.active()


class ComparisonSitemap(SiteSitemap):
    limit = PAIRS_PER_PAGE

    def items(self):
        return Pairs()

    def location(self, pair):
        # One reverse for the whole page, not one per pair.
        if not hasattr(self, "_prefix"):
            self._prefix = reverse("compare:pair", args=["x"])[:-1]
        # The database's collation may order slugs otherwise than Python: the address is
        # always the canonical one (compare/comparison.py), never a redirect.
        first, second = canonical_pair(pair[0], pair[1])
        return f"{self._prefix}{first}-vs-{second}"

    def lastmod(self, pair):
        return pair[2]

    @cached_property
    def paginator(self):
        """Pages of `limit` pairs, counted and cut by arithmetic on each category's count of
        reviewed tools (sharing/pairs.py): no COUNT or OFFSET over the millions of pairs."""
        return Paginator(self.items(), self.limit)

    def get_latest_lastmod(self):
        # A pair's verdict is its later tool's: the latest among reviewed tools that have a
        # reviewed rival, i.e. in a category with two or more reviewed tools.
        shared = (
            Tool.objects.reviewed()
            .order_by()
            .values("category")
            .annotate(n=Count("pk"))
            .filter(n__gte=2)
            .values("category")
        )
        return (
            Tool.objects.reviewed()
            .filter(category__in=shared)
            .aggregate(at=Max("current_run__finished_at"))["at"]
        )


SECTIONS = {
    "pages": PagesSitemap,
    "tools": ToolSitemap,
    "categories": CategorySitemap,
    "panel": PersonaSitemap,
    "compare": ComparisonSitemap,
}


@public
@x_robots_tag
def index(request):
    """The sitemap index: each section's pages, by absolute address on SITE_URL.

    Django's own index view builds these addresses from the request's Host; this one is the
    same loop on SITE_URL.
    """
    items = []
    for section, cls in SECTIONS.items():
        sitemap = cls()
        url = settings.SITE_URL + reverse("sharing:sitemap_section", kwargs={"section": section})
        lastmod = sitemap.get_latest_lastmod()
        pages = sitemap.paginator.num_pages  # one COUNT query
        items.append(SitemapIndexItem(url, lastmod))
        items += [SitemapIndexItem(f"{url}?p={page}", lastmod) for page in range(2, pages + 1)]
    return TemplateResponse(request, "sitemap_index.xml", {"sitemaps": items}, content_type="application/xml")
