"""Queries and render time per public page, at the bundled catalog's size and at 10x.

Run: .venv/bin/python bench/page_queries.py
Prints, per page, the SQL queries and the median render time for the bundled catalog and for
the same catalog grown tenfold with synthetic tools, and the ratio between the two (the
target is 1.0 for queries: a page's cost must not grow with the catalog).
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["SHIPORSKIP_DATA_DIR"] = tempfile.mkdtemp(prefix="sos-bench-")
os.environ.pop("DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "shiporskip.settings"
os.environ.setdefault("SHIPORSKIP_ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from shiporskip.catalog.loading import load_bundled, load_catalog  # noqa: E402
from shiporskip.catalog.models import Tool  # noqa: E402
from shiporskip.panel.personas import load_personas  # noqa: E402
from shiporskip.panel.running import review_tool  # noqa: E402

PAGES = {
    "home": "/",
    "comparison": "/compare/code-llama-4-vs-mistral-3-small-22b",
    "tool": "/tools/code-llama-4",
    "category": "/categories/developer-tools",
    "persona": "/panel/founder",
}


def measure(client: Client) -> dict[str, tuple[int, float]]:
    results = {}
    for name, url in PAGES.items():
        client.get(url)  # warm the app's caches: measure the steady state
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        queries = len(ctx.captured_queries)  # read now: the next request resets the log
        times = []
        for _ in range(15):
            start = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - start)
        results[name] = (queries, statistics.median(times) * 1000)
    return results


def review_all() -> None:
    for tool in Tool.objects.filter(current_run__isnull=True).select_related("category"):
        review_tool(tool=tool, model="offline")


def grow(factor: int) -> None:
    """Add synthetic tools copying the bundled ones' facts, spread over every category."""
    tools = list(Tool.objects.select_related("category"))
    extra = [
        {
            "name": f"{t.name} copy {i}",
            "category": t.category.slug,
            "facts": t.facts,
            "best_for": t.best_for,
            "description": t.description,
            "pricing": t.pricing,
        }
        for i in range(1, factor)
        for t in tools
    ]
    load_catalog({"tools": extra})


def main() -> None:
    # As Django's test runner does: keep one connection, so every query is captured.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    call_command("migrate", verbosity=0)
    load_personas()
    load_bundled()
    review_all()
    client = Client()
    small_n = Tool.objects.count()
    small = measure(client)
    grow(10)
    review_all()
    big_n = Tool.objects.count()
    big = measure(client)
    print(f"{'page':<12} {'queries':>8} {'ms':>7} | {'queries':>8} {'ms':>7} | query ratio")
    print(f"{'':<12} {small_n:>8} tools    | {big_n:>8} tools    |")
    for name in PAGES:
        (q1, t1), (q2, t2) = small[name], big[name]
        ratio = f"{q2 / q1:.2f}" if q1 else "n/a"
        print(f"{name:<12} {q1:>8} {t1:>7.1f} | {q2:>8} {t2:>7.1f} | {ratio}")


if __name__ == "__main__":
    main()
