"""The indexable comparisons as a sequence a paginator cuts by arithmetic, not by OFFSET.

A comparison worth indexing pairs two reviewed tools of one category. Number each category's
reviewed tools 0..n-1 by slug: its pairs (i, j), i < j, come row by row (row i holds
(i, i+1) .. (i, n-1), n-1-i pairs), and the categories follow each other by id. Pair number k
is then found by arithmetic on the per-category counts (one GROUP BY), and a slice of pairs
needs only the tools it names: the first tools of its rows and the second tools, at most two
runs of positions per category, read in one query by position (OFFSET within one category's
slug index, never a self-join). A page of `size` pairs reads at most about 2 x size tools,
whatever the catalog's size.
"""

from math import isqrt

from django.db.models import Count, Q

from shiporskip.catalog.models import Tool


def row_start(i: int, n: int) -> int:
    """How many pairs come before row i in a category of n tools."""
    return i * (n - 1) - i * (i - 1) // 2


def pair_at(k: int, n: int) -> tuple[int, int]:
    """Positions (i, j) of a category's k-th pair (0-based), rows in order."""
    # row_start(i) <= k, solved for i (a quadratic), then nudged past rounding.
    b = 2 * n - 1
    i = max(0, (b - isqrt(max(0, b * b - 8 * k))) // 2)
    while i > 0 and row_start(i, n) > k:
        i -= 1
    while row_start(i + 1, n) <= k:
        i += 1
    return i, i + 1 + k - row_start(i, n)


def walk(lo: int, hi: int, n: int):
    """Positions (i, j) of a category's pairs lo..hi, stepping along the rows: one pair_at for
    the first, then no arithmetic per pair."""
    i, j = pair_at(lo, n)
    for _ in range(hi - lo + 1):
        yield i, j
        j += 1
        if j == n:
            i += 1
            j = i + 1


def category_counts() -> list[tuple[int, int]]:
    """(category id, reviewed tools) for each category with a pair, by id: one query."""
    rows = (
        Tool.objects.reviewed()
        .order_by("category")
        .values("category")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .values_list("category", "n")
    )
    return list(rows)


def runs(first: tuple[int, int], last: tuple[int, int], n: int) -> list[tuple[int, int]]:
    """The positions (inclusive runs, merged, in order) that pairs first..last name."""
    (i_a, j_a), (i_b, j_b) = first, last
    if i_a == i_b:
        wanted = [(i_a, i_a), (j_a, j_b)]
    elif i_b == i_a + 1:
        wanted = [(i_a, max(j_b, i_b)), (j_a, n - 1)]
    else:  # a whole row i_a + 1 lies between: every position from i_a on
        wanted = [(i_a, n - 1)]
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(wanted):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


class Pairs:
    """The indexable pairs as (slug, slug, later verdict), sliceable; len() without a COUNT."""

    def __init__(self):
        self.counts = category_counts()

    def __len__(self) -> int:
        return sum(n * (n - 1) // 2 for _, n in self.counts)

    def count(self) -> int:
        return len(self)

    def __getitem__(self, cut):
        if not isinstance(cut, slice) or cut.step not in (None, 1):
            raise TypeError("Pairs are read by slices of consecutive pairs")
        start, stop, _ = cut.indices(len(self))
        spans = list(self._spans(start, stop))  # (category, n, its first and last pair number)
        if not spans:
            return []
        wanted = {category: runs(pair_at(lo, n), pair_at(hi, n), n) for category, n, lo, hi in spans}
        tools = self._tools(wanted)
        pairs = []
        for category, n, lo, hi in spans:
            at = tools.get(category, {})
            for i, j in walk(lo, hi, n):
                if i in at and j in at:  # a tool reviewed or removed since the count: skip
                    (slug_i, at_i), (slug_j, at_j) = at[i], at[j]
                    pairs.append((slug_i, slug_j, at_i if at_i >= at_j else at_j))
        return pairs

    def _spans(self, start: int, stop: int):
        offset = 0
        for category, n in self.counts:
            total = n * (n - 1) // 2
            lo, hi = max(start, offset), min(stop, offset + total)
            if lo < hi:
                yield category, n, lo - offset, hi - 1 - offset
            offset += total
            if offset >= stop:
                break

    @staticmethod
    def _tools(wanted: dict[int, list[tuple[int, int]]]) -> dict[int, dict[int, tuple[str, object]]]:
        """{category: {position: (slug, verdict time)}}: one query, each run a slice by slug."""
        reviewed = Tool.objects.reviewed()
        match = Q()
        for category, spans in wanted.items():
            ordered = reviewed.filter(category_id=category).order_by("slug").values("pk")
            for lo, hi in spans:
                match |= Q(pk__in=ordered[lo : hi + 1])
        rows = (
            reviewed.filter(match)
            .order_by("category_id", "slug")
            .values_list("category_id", "slug", "current_run__finished_at")
        )
        # Rows come in position order: each category's runs, in order, one after the other.
        positions = {
            category: iter([p for lo, hi in spans for p in range(lo, hi + 1)])
            for category, spans in wanted.items()
        }
        found: dict[int, dict[int, tuple[str, object]]] = {}
        for category, slug, verdict_at in rows:
            position = next(positions[category], None)
            if position is not None:
                found.setdefault(category, {})[position] = (slug, verdict_at)
        return found
