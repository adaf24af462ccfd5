"""Prometheus metrics at `/metrics`, right with any number of web processes.

Counters and the render-time histogram live in prometheus_client's multiprocess mode: every
process writes its own memory-mapped files in `PROMETHEUS_MULTIPROC_DIR` (settings points it
at `<data dir>/metrics` unless set), and a scrape of any web process on a machine sums the files
of all of them, including processes that have since exited, so no count is lost when granian
or systemd replaces a worker. Counts that belong to the site rather than to a process (panel
runs, deliveries, the queue) are read from the database and the queue at scrape time, so every
process answers the same figures for them.

Prometheus scrapes each machine's web process directly; the public proxy refuses `/metrics`
(deploy/nginx/shiporskip.conf), and the view answers only the addresses in
`SHIPORSKIP_METRICS_ALLOW` or a request bearing `SHIPORSKIP_METRICS_TOKEN`.
"""

import ipaddress
import logging
import time

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("shiporskip.metrics")
# The classic text format, which every Prometheus reads (generate_latest writes it; newer
# prometheus_client versions announce 1.0.0, which Prometheus 2 does not know).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUESTS = Counter(
    "shiporskip_http_requests", "HTTP requests answered, by route name and status.", ["route", "status"]
)
RENDER = Histogram(
    "shiporskip_render_seconds",
    "Seconds from a request reaching Django to its response being built, by route name.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def route_of(request) -> str:
    """The URL pattern's name (`compare:pair`), never the path: one series per page kind."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or "unnamed"
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"  # whitenoise answered before any URL was resolved
    return "unmatched"


class MetricsMiddleware:
    """Counts and times every response; first in MIDDLEWARE, so static files are counted too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        REQUESTS.labels(route, str(response.status_code)).inc()
        RENDER.labels(route).observe(time.perf_counter() - started)
        return response


def counts_by_status(queryset, statuses) -> dict[str, int]:
    found = dict(queryset.values_list("status").annotate(n=Count("pk")).order_by())
    return {status: found.get(status, 0) for status in [*statuses, *found]}


class SiteCollector:
    """Figures read at scrape time: panel runs and deliveries by status, the queue's depth."""

    def collect(self):
        from huey.contrib.djhuey import HUEY

        from shiporskip.newsletter.models import Delivery
        from shiporskip.panel.models import PanelRun

        try:
            runs = counts_by_status(PanelRun.objects.all(), PanelRun.Status.values)
            deliveries = counts_by_status(Delivery.objects.all(), Delivery.Status.values)
        except DatabaseError as exc:  # the scrape still answers the process's own counters
            log.error("metrics: the database did not answer: %s", exc)
        else:
            yield gauge("shiporskip_panel_runs", "Panel runs by status.", runs)
            yield gauge("shiporskip_newsletter_deliveries", "Newsletter deliveries by status.", deliveries)
        try:
            pending = HUEY.pending_count()
        except Exception as exc:  # Redis or the queue file unreachable: say so in the log only
            log.error("metrics: the queue did not answer: %s", exc)
        else:
            yield GaugeMetricFamily("shiporskip_queue_pending", "Tasks waiting in the queue.", value=pending)


def gauge(name: str, documentation: str, by_status: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for status, count in by_status.items():
        family.add_metric([status], count)
    return family


def allowed(request) -> bool:
    """A scraper from an allowed network, or one that shows the token."""
    from shiporskip.community.ratelimit import client_ip

    token = settings.METRICS_TOKEN
    if token and constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOW)


@require_safe
@never_cache
def metrics_view(request):
    if not allowed(request):
        return HttpResponse(
            "Metrics are for the site's monitoring only (SHIPORSKIP_METRICS_ALLOW, "
            "SHIPORSKIP_METRICS_TOKEN).\n",
            status=403,
            content_type="text/plain",
        )
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(SiteCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE)
