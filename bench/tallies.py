"""The list pages' tally query: counted per request (the old way) against stored (the new).

Run: .venv/bin/python bench/tallies.py [--sizes 58,1000,10000] [--runs 15]

At each size, in the same process and on the same database, the one query a list page makes
for its rows (the first page of /tools by panel score, of a category's ranking, of /tools by
community votes) and its count, with the tallies counted from the reviews and votes in SQL
as `with_tallies()` used to (a GROUP BY over the current runs' reviews and a correlated
subquery per tool for the votes) and read from the stored columns. Prints p50 ms of each and
the ratio counted/stored (above 1: the stored read is that many times cheaper), and each
one's p50 against its own p50 at the smallest size (1.00: costs the same at any size).
SQLite in a temporary data dir unless DATABASE_URL names an empty database.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SHIPORSKIP_DATA_DIR", tempfile.mkdtemp(prefix="sos-tallies-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "shiporskip.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.models import Avg, Count, OuterRef, Q, Subquery  # noqa: E402
from django.db.models.functions import Coalesce  # noqa: E402

from shiporskip.catalog import listing  # noqa: E402
from shiporskip.catalog.models import Category, Tool  # noqa: E402
from tests.scale import bundled_reviewed, grow_reviewed  # noqa: E402


class CountedToolQuerySet(type(Tool.objects.all())):
    """with_tallies() and with_score() as they were: counted from the rows on every read."""

    def with_panel(self):
        reviews = "current_run__reviews"
        return self.select_related("category", "current_run").annotate(
            ship_count=Count(reviews, filter=Q(**{f"{reviews}__verdict": "ship"})),
            skip_count=Count(reviews, filter=Q(**{f"{reviews}__verdict": "skip"})),
        )

    def with_community(self):
        def votes(verdict):
            counted = (
                Tool.objects.filter(pk=OuterRef("pk"), votes__verdict=verdict)
                .order_by()
                .values("pk")
                .annotate(n=Count("votes"))
                .values("n")
            )
            return Coalesce(Subquery(counted), 0)

        return self.annotate(vote_ship=votes("ship"), vote_skip=votes("skip"))

    def with_score(self):
        return self.annotate(panel_score=Avg("current_run__reviews__score"))


def counted():
    return CountedToolQuerySet(Tool)


def cases(category):
    return {
        "all tools": (listing.Choice(), None, listing.PER_PAGE),
        "category": (listing.Choice(), {"category": category}, 50),
        "all tools, community": (listing.Choice(sort="community"), None, listing.PER_PAGE),
    }


def once(choice, where, per_page, base) -> float:
    qs = base.filter(**where) if where else base
    start = time.perf_counter()
    rows = listing.tools(choice, qs)
    rows.count()
    list(rows[:per_page])
    return 1000 * (time.perf_counter() - start)


def measure(runs: int) -> dict[str, tuple[float, float]]:
    category = Category.objects.order_by("pk").first()
    out = {}
    for name, (choice, where, per_page) in cases(category).items():
        old = [once(choice, where, per_page, counted()) for _ in range(runs)]
        new = [once(choice, where, per_page, Tool.objects.all()) for _ in range(runs)]
        out[name] = (statistics.median(old), statistics.median(new))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="58,1000,10000")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    by_size = {}
    for size in (int(s) for s in args.sizes.split(",")):
        if not Tool.objects.exists():
            bundled_reviewed()
        grow_reviewed(size)
        by_size[Tool.objects.count()] = measure(args.runs)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    first = next(iter(by_size.values()))
    print(
        f"{'query (count + one page)':24} | {'tools':>6} | counted ms | stored ms | counted/stored"
        " | counted x-small | stored x-small"
    )
    for n, results in by_size.items():
        for name, (old, new) in results.items():
            print(
                f"{name:24} | {n:6} | {old:10.1f} | {new:9.1f} | {old / new:14.1f}"
                f" | {old / first[name][0]:15.2f} | {new / first[name][1]:14.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
