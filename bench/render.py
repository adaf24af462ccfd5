"""Cold render of every public page at 46, 1,000 and 10,000 reviewed tools; first visits over HTTP.

Run: .venv/bin/python bench/render.py [--sizes 46,1000,10000] [--runs 25] [--no-http]

1. In process: each page rendered through Django's test client with the page cache off and the
   process cache cleared before every request (a first visit's work), `--runs` times per size:
   p50, p95 and the queries one render makes, and each page's p50 as a ratio of its p50 at the
   bundled catalog's size measured in the same run (1.00 = the page costs the same at any size).
   Target: p50 <= 15 ms for every page at 10,000 tools.
2. Over HTTP, at the largest size: the real server (`shiporskip up`'s granian command, one
   worker, page cache off so every request is a first visit) on the same database. First
   visits to 200 distinct comparison pages (p50 against the 30 ms target), then the home,
   category, persona and all-tools pages (p50 against 100 ms).

The catalog is the bundled one reviewed by the offline panel, grown with reviewed copies by
tests/scale.py. SQLite in a temporary data dir unless DATABASE_URL names an empty database.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SHIPORSKIP_DATA_DIR", tempfile.mkdtemp(prefix="sos-render-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "shiporskip.settings"
os.environ.setdefault("SHIPORSKIP_ALLOWED_HOSTS", "testserver,127.0.0.1")
os.environ["SHIPORSKIP_PAGE_CACHE_SECONDS"] = "0"  # cold: no page cache, here and in the server

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from shiporskip.catalog.models import Tool  # noqa: E402
from tests.scale import bundled_reviewed, grow_reviewed  # noqa: E402
from tests.test_scale import PAGES  # noqa: E402 - the same pages the query-count test checks

TARGET_MS = 15.0
HTTP_COMPARE_MS, HTTP_PAGE_MS = 30.0, 100.0
HTTP_PAGES = {
    "home": "/",
    "category": "/categories/developer-tools",
    "persona": "/panel/founder",
    "all tools": "/tools",
}


def render_once(client: Client, url: str) -> float:
    cache.clear()  # nothing kept from the last render: a first visit
    start = time.perf_counter()
    client.get(url)
    return (time.perf_counter() - start) * 1000


def count_queries(client: Client, url: str) -> int:
    """The queries one cold render makes. Counted in a render of its own, never a timed one:
    capturing costs per query what a server does not pay (on SQLite, Django quotes each
    statement's parameters with one more query to record its SQL)."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return len(ctx.captured_queries)


def measure(client: Client, runs: int) -> dict[str, tuple[float, float, int]]:
    """Each page's p50, p95 and queries. The renders go round the pages, one of each per
    round: a burst of other load on the machine (a shared VM has them) then weighs on every
    page a little, not on all the samples of the one page it happened to fall on."""
    # Counting also compiles the templates, as a running server has them.
    queries = {name: count_queries(client, url) for name, (url, _status) in PAGES.items()}
    times: dict[str, list[float]] = {name: [] for name in PAGES}
    for _ in range(runs):
        for name, (url, _status) in PAGES.items():
            times[name].append(render_once(client, url))
    return {name: (statistics.median(ts), percentile(ts, 95), queries[name]) for name, ts in times.items()}


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(by_size: dict[int, dict]) -> bool:
    sizes = list(by_size)
    base, largest = by_size[sizes[0]], by_size[sizes[-1]]
    head = "".join(f" | {n:>6} tools: p50    p95  q  x{sizes[0]}" for n in sizes)
    print(f"\n{'page':<28}{head} | <= {TARGET_MS:g} ms")
    ok = True
    for name in PAGES:
        cells = ""
        for n in sizes:
            p50, p95, q = by_size[n][name]
            cells += f" | {'':>6}      {p50:5.1f} {p95:6.1f} {q:2d} {p50 / base[name][0]:5.2f}"
        hit = largest[name][0] <= TARGET_MS
        ok &= hit
        print(f"{name:<28}{cells} | {'yes' if hit else 'NO'}")
    return ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_ms(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own http://127.0.0.1
        response.read()
        assert response.status == 200, (url, response.status)
    return (time.perf_counter() - start) * 1000


def over_http(runs: int) -> bool:
    from shiporskip.cli.serve import web_command

    port = free_port()
    command = web_command("127.0.0.1", port)
    command[command.index("--workers") + 1] = "1"
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "SHIPORSKIP_WEB_WORKERS": "1"})
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                get_ms(base + "/panel/")
                break
            except OSError:
                time.sleep(0.1)
        pairs = pair_addresses(200)
        first = [get_ms(base + url) for url in pairs]
        p50 = statistics.median(first)
        ok = p50 <= HTTP_COMPARE_MS
        print(f"\nOver HTTP (granian, 1 worker, page cache off), {Tool.objects.count()} tools:")
        print(
            f"{len(pairs)} distinct comparison pages, first visits: p50 {p50:.1f} ms, "
            f"p95 {percentile(first, 95):.1f} ms | <= {HTTP_COMPARE_MS:g} ms: {'yes' if ok else 'NO'}"
        )
        for name, url in HTTP_PAGES.items():
            times = [get_ms(base + url) for _ in range(runs)]
            p50 = statistics.median(times)
            ok &= p50 <= HTTP_PAGE_MS
            print(
                f"{name:<12} p50 {p50:6.1f} ms, p95 {percentile(times, 95):6.1f} ms "
                f"| <= {HTTP_PAGE_MS:g} ms: {'yes' if p50 <= HTTP_PAGE_MS else 'NO'}"
            )
        return ok
    finally:
        server.terminate()
        server.wait(timeout=15)


def pair_addresses(n: int) -> list[str]:
    """n distinct same-category comparisons, spread over the catalog (never visited before)."""
    from shiporskip.compare.comparison import compare_url

    tools = list(Tool.objects.order_by("category_id", "pk").values_list("slug", "category_id"))
    step = max(1, len(tools) // n)
    pairs = []
    for i in range(0, len(tools) - 1, step):
        (a, ca), (b, cb) = tools[i], tools[i + 1]
        if ca == cb:
            pairs.append(compare_url(a, b))
    return pairs[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="46,1000,10000")
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    # As Django's test runner does: one connection, so every query is captured.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    call_command("migrate", verbosity=0)
    client = Client()
    by_size = {}
    for size in (int(s) for s in args.sizes.split(",")):
        start = time.perf_counter()
        if not Tool.objects.exists():
            bundled_reviewed()
        grow_reviewed(size)
        n = Tool.objects.count()
        print(f"catalog: {n} reviewed tools ({time.perf_counter() - start:.1f} s to build)", flush=True)
        by_size[n] = measure(client, args.runs)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    ok = report(by_size)
    if not args.no_http:
        ok &= over_http(args.runs)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
