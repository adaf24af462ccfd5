"""sitemap.xml: a sitemap index with one paginated section per kind of page.

Every address is built on SITE_URL (not the request's Host), and `lastmod` is the latest
verdict: the finished time of a tool's current panel run, for a pair the later of the two.
Every section is cut into pages (tools and categories by LIMIT/OFFSET, comparisons by
arithmetic, see sharing/pairs.py), and each section's latest `lastmod` is one query that reads
the newest runs off the finished_at index until one counts, so no request reads the whole
catalog: at 10,000 tools the same-category pairs run to millions, in pages of `PAIRS_PER_PAGE`,
each read with a few small queries.

The XML is the bytes Django's sitemap templates (sitemap_index.xml, sitemap.xml) wrote, built
as plain strings: the index names some 8,600 pages at 10,000 tools and a section page up to a
thousand addresses, too many to pass one by one through the template engine
(tests/test_sitemap_xml.py holds the two equal).
"""

import datetime
import html
from functools import cached_property
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps.views import x_robots_tag
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Case, Count, DateTimeField, Exists, OuterRef, Subquery, When
from django.db.models.lookups import In
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from shiporskip.catalog.models import Category, Tool
from shiporskip.compare.comparison import canonical_pair
from shiporskip.pages import public
from shiporskip.panel.models import PanelRun, Persona
from shiporskip.sharing.pairs import Pairs

# The protocol allows 50,000 addresses per sitemap; pairs come in smaller pages so that one
# page is quick to build (and to cache) however large the catalog grows.
PAIRS_PER_PAGE = 1_000
TOOLS_PER_PAGE = 1_000


# XML, as the templates wrote it ------------------------------------------------------------


URLSET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
)
URLSET_TAIL = "\n</urlset>\n"
INDEX_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
INDEX_TAIL = "\n</sitemapindex>\n"


def escape(text: str) -> str:
    """Django's autoescape: the same five characters, the same entities (&#x27; for '), by
    five str.replace, several times quicker than django.utils.html.escape's str.translate."""
    return html.escape(str(text))


def current_zone():
    """The zone the template's `date` filter shows aware datetimes in (None: USE_TZ off).
    Read once for a page: reading it costs more than converting a value."""
    return timezone.get_current_timezone() if settings.USE_TZ else None


def local(value, zone):
    """`value` as the template's `date` filter sees it: an aware datetime in `zone`."""
    if zone is not None and isinstance(value, datetime.datetime) and value.utcoffset() is not None:
        return value.astimezone(zone)
    return value


def day(value, zone) -> str:
    """`{{ value|date:"Y-m-d" }}`."""
    value = local(value, zone)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def moment(value) -> str:
    """`{{ value|date:"c" }}` (ISO 8601)."""
    return local(value, current_zone()).isoformat()


def urlset(urls, changefreq: str | None = None) -> str:
    """sitemap.xml of (escaped absolute address, lastmod or None) rows, each tag on one line
    and no space between tags, as the template's {% spaceless %} left them."""
    end = f"<changefreq>{escape(changefreq)}</changefreq></url>" if changefreq else "</url>"
    zone = current_zone()
    days: dict = {}  # a row of pairs shares its first tool's verdict: each shown once
    rows = []
    for loc, lastmod in urls:
        if lastmod:
            shown = days.get(lastmod) or days.setdefault(lastmod, day(lastmod, zone))
            rows.append(f"<url><loc>{loc}</loc><lastmod>{shown}</lastmod>{end}")
        else:
            rows.append(f"<url><loc>{loc}</loc>{end}")
    return URLSET_HEAD + "".join(rows) + URLSET_TAIL


def index_entries(url: str, lastmod, pages: int) -> str:
    """The index's <sitemap> entries for one section's pages: `url`, then `url?p=2` on."""
    loc = escape(url)
    end = f"</loc><lastmod>{moment(lastmod)}</lastmod></sitemap>" if lastmod else "</loc></sitemap>"
    first = f"<sitemap><loc>{loc}{end}"
    if pages < 2:
        return first
    # Thousands of entries that differ by their page number alone: joined in one call.
    numbers = map(str, range(2, pages + 1))
    return f"{first}<sitemap><loc>{loc}?p=" + f"{end}<sitemap><loc>{loc}?p=".join(numbers) + end


def last_modified(urls) -> dict[str, str] | None:
    """Django's sitemap view's Last-Modified: the latest lastmod, if every row has one."""
    lastmods = [lastmod for _, lastmod in urls]
    if not lastmods or any(lastmod is None for lastmod in lastmods):
        return None
    latest = max(lastmods)
    if not isinstance(latest, datetime.datetime):
        latest = datetime.datetime.combine(latest, datetime.time.min)
    if timezone.is_naive(latest):
        latest = timezone.make_aware(latest, datetime.UTC)
    return {"Last-Modified": http_date(latest.timestamp())}


# What the sections list ---------------------------------------------------------------------


def latest_verdict():
    """The latest finished panel run: the newest runs off the finished_at index, first done."""
    return (
        PanelRun.objects.filter(status=PanelRun.Status.DONE, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


def latest_current_verdict(tools):
    """The latest verdict shown for any of `tools`: the newest run that is the current run of
    one of them, read newest first off the finished_at index (the same as a MAX over the
    tools' current runs, which would read every one)."""
    return (
        PanelRun.objects.filter(finished_at__isnull=False)
        .filter(Exists(tools.filter(current_run=OuterRef("pk"))))
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


def latest_tool_verdict():
    return latest_current_verdict(Tool.objects.all())


def latest_pair_verdict():
    """A pair's verdict is its later tool's: the latest among reviewed tools that have a
    reviewed rival, i.e. in a category with two or more reviewed tools."""
    shared = (
        Tool.objects.reviewed()
        .order_by()
        .values("category")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .values("category")
    )
    return latest_current_verdict(Tool.objects.filter(category__in=shared))


def slug_address(name: str) -> tuple[str, str]:
    """The address of url `name` around its slug, so that a page of rows costs one reverse."""
    head, _, tail = reverse(name, args=["SLUG"]).rpartition("SLUG")
    return head, tail


class Rows:
    """A page's (path, lastmod) rows, cut from `rows` (slug, lastmod) by slicing, and counted
    by `count`: the same rows by a cheaper query (no join to the runs)."""

    def __init__(self, rows, count, name: str):
        self.rows, self._count = rows, count
        self.head, self.tail = slug_address(name)

    def count(self) -> int:
        return self._count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, cut):
        head, tail = self.head, self.tail
        return [(f"{head}{slug}{tail}", lastmod) for slug, lastmod in self.rows[cut]]


class SiteSitemap:
    """One section: its addresses, on SITE_URL, with their lastmod, in pages of `limit`."""

    limit = 50_000  # the protocol's most
    changefreq: str | None = None
    # The section's latest lastmod, for the index: a function of no arguments, which sections
    # that share it share (the index calls each once).
    get_latest_lastmod = staticmethod(latest_verdict)

    def items(self):
        """What the paginator cuts (a list, or a sequence with count() and slices): (path,
        lastmod) rows, which rows() gives as they are; a site-wide section's paths."""
        raise NotImplementedError

    @cached_property
    def paginator(self):
        return Paginator(self.items(), self.limit)

    def urls(self, page) -> list[tuple[str, object]]:
        """Page `page`'s (escaped absolute address, lastmod) rows; EmptyPage, PageNotAnInteger."""
        parts = urlsplit(settings.SITE_URL)
        base = escape(f"{parts.scheme}://{parts.netloc}")
        return [(base + escape(path), lastmod) for path, lastmod in self.rows(self.paginator.page(page))]

    def rows(self, page) -> list[tuple[str, object]]:
        """A page's items as (path, lastmod) rows."""
        return page.object_list


class SiteWideSitemap(SiteSitemap):
    """Pages that show the whole panel: each changes with any verdict. Their items are paths,
    given the latest verdict once a page is cut (counting them for the index needs none)."""

    def rows(self, page) -> list[tuple[str, object]]:
        latest = latest_verdict()
        return [(path, latest) for path in page.object_list]


class PagesSitemap(SiteWideSitemap):
    """The home page, the list of all tools and the panel: they change with every verdict."""

    changefreq = "daily"

    def items(self):
        return [reverse(name) for name in ("catalog:home", "catalog:tools", "panel:personas")]


class ToolSitemap(SiteSitemap):
    get_latest_lastmod = staticmethod(latest_tool_verdict)
    # Pages of this many: a sitemap page costs the same at 40 tools or 10,000.
    limit = TOOLS_PER_PAGE

    def items(self):
        return Rows(ToolsById(), Tool.objects.count, "catalog:tool")


class ToolsById:
    """Every tool's (slug, lastmod) by id, sliceable: a slice's OFFSET steps over ids alone,
    and only the page's tools are joined to their runs (a late page, OFFSET 9,000 at 10,000
    tools, would otherwise read every tool before it with its run)."""

    def __getitem__(self, cut):
        ids = Tool.objects.order_by("pk").values("pk")[cut]
        return Tool.objects.filter(pk__in=ids).order_by("pk").values_list("slug", "current_run__finished_at")


class CategorySitemap(SiteSitemap):
    get_latest_lastmod = staticmethod(latest_tool_verdict)

    def items(self):
        # A category's latest verdict, looked for only where it has a reviewed tool: the walk
        # down the runs stops at that tool's run at the latest.
        in_category = In(OuterRef("pk"), Tool.objects.filter(current_run=OuterRef("pk")).values("category"))
        latest = (
            PanelRun.objects.filter(in_category, finished_at__isnull=False)
            .order_by("-finished_at")
            .values("finished_at")[:1]
        )
        reviewed = Exists(Tool.objects.reviewed().filter(category=OuterRef("pk")))
        rows = (
            Category.objects.order_by("pk")
            .annotate(verdict_at=Case(When(reviewed, then=Subquery(latest)), output_field=DateTimeField()))
            .values_list("slug", "verdict_at")
        )
        return Rows(rows, Category.objects.count, "catalog:category")


class PersonaSitemap(SiteWideSitemap):
    def items(self):
        head, tail = slug_address("panel:persona")
        return [f"{head}{key}{tail}" for key in Persona.objects.active().values_list("key", flat=True)]


class ComparisonSitemap(SiteSitemap):
    limit = PAIRS_PER_PAGE
    get_latest_lastmod = staticmethod(latest_pair_verdict)

    def items(self):
        return PairRows()


class PairRows:
    """The pairs (sharing/pairs.py) as (path, lastmod) rows: counted and cut by arithmetic on
    each category's count of reviewed tools, no COUNT or OFFSET over the millions of pairs."""

    def __init__(self):
        self.pairs = Pairs()
        self.head, self.tail = slug_address("compare:pair")

    def count(self) -> int:
        return len(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, cut):
        # The database's collation may order slugs otherwise than Python: the address is
        # always the canonical one (compare/comparison.py), never a redirect.
        head, tail = self.head, self.tail
        rows = []
        for a, b, lastmod in self.pairs[cut]:
            first, second = canonical_pair(a, b)
            rows.append((f"{head}{first}-vs-{second}{tail}", lastmod))
        return rows


SECTIONS = {
    "pages": PagesSitemap,
    "tools": ToolSitemap,
    "categories": CategorySitemap,
    "panel": PersonaSitemap,
    "compare": ComparisonSitemap,
}


# The views ----------------------------------------------------------------------------------


@public
@x_robots_tag
def index(request):
    """The sitemap index: each section's pages, by absolute address on SITE_URL.

    Django's own index view builds these addresses from the request's Host; this one is the
    same loop on SITE_URL.
    """
    entries = []
    latest = {}  # by function: the tools and the categories share one, pages and panel one
    for section, cls in SECTIONS.items():
        sitemap = cls()
        url = settings.SITE_URL + reverse("sharing:sitemap_section", kwargs={"section": section})
        find = cls.get_latest_lastmod
        lastmod = latest[find] if find in latest else latest.setdefault(find, find())
        pages = sitemap.paginator.num_pages  # one COUNT query, or arithmetic
        entries.append(index_entries(url, lastmod, pages))
    return HttpResponse(INDEX_HEAD + "".join(entries) + INDEX_TAIL, content_type="application/xml")


@public
@x_robots_tag
def section(request, section):
    """One page (`?p=`, from 1) of one section: Django's sitemap view, on SITE_URL."""
    if section not in SECTIONS:
        raise Http404(f"No sitemap available for section: {section!r}")
    page = request.GET.get("p", 1)
    try:
        urls = SECTIONS[section]().urls(page)
    except EmptyPage:
        raise Http404(f"Page {page} empty") from None
    except PageNotAnInteger:
        raise Http404(f"No page {page!r}") from None
    changefreq = SECTIONS[section].changefreq
    return HttpResponse(urlset(urls, changefreq), content_type="application/xml", headers=last_modified(urls))
