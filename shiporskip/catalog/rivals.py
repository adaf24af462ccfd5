"""A tool's nearest rivals: the one rule for "who does it compete with", used by every page and review.

Rivals are the tools of the same category whose facts are closest: the same kind of thing,
a similar size, a similar price, deployed the same way. The alphabet plays no part.
"""

import heapq
import json
import math
from dataclasses import dataclass

from shiporskip.catalog.facts import ToolFacts


@dataclass(frozen=True)
class Candidate:
    pk: int
    name: str
    features: list  # `features` of its facts


def price_point(f: ToolFacts) -> tuple[str, float] | None:
    """What a seat or a blended million tokens (3 in : 1 out) costs, and which of the two it is.

    The kind names its currency unless it is USD: prices in two currencies never compare.
    """
    p = f.price
    if p is None:
        return None
    suffix = "" if p.currency == "USD" else f":{p.currency}"
    if p.seat_monthly is not None:
        return ("seat" + suffix, p.seat_monthly)
    if p.input_per_mtok is not None and p.output_per_mtok is not None:
        return ("tokens" + suffix, (3 * p.input_per_mtok + p.output_per_mtok) / 4)
    return None


def _log_gap(a: float | None, b: float | None, *, plus: float = 0.0) -> float:
    if a is None or b is None:
        return 0.5  # unknown: neither near nor far
    return abs(math.log10((a + plus) / (b + plus)))


# What the distance reads of a tool's facts, in one short list (stored on the tool as
# `rival_features`, so ranking a category's tools parses no facts record):
# [kind, size in billions, price kind, price, self_hostable, open_weights, open_source,
#  api_available]. JSON keeps each float exactly, so a stored list ranks as the facts do.
FLAGS = ("self_hostable", "open_weights", "open_source", "api_available")
Features = list


def features(f: ToolFacts) -> Features:
    """The figures `distance` weighs, as a JSON-ready list."""
    point = price_point(f)
    return [
        f.kind,
        f.max_parameters_billions(),
        *(point or (None, None)),
        *(getattr(f, flag) for flag in FLAGS),
    ]


def distance(a: ToolFacts, b: ToolFacts) -> float:
    """How far apart two tools' facts are: kind, size, price and deployment."""
    return feature_distance(features(a), features(b))


def feature_distance(a: Features, b: Features) -> float:
    """`distance` on two tools' `features`."""
    d = 0.0 if a[0] == b[0] else 2.0
    sa, sb = a[1], b[1]
    if sa is not None or sb is not None:
        d += min(_log_gap(sa, sb), 2.0)
    pa, pb = a[2], b[2]
    if pa is not None and pb is not None and pa == pb:
        d += min(_log_gap(a[3], b[3], plus=1.0), 2.0)
    elif pa is not None or pb is not None:
        d += 0.5
    for i in range(4, 8):
        x, y = a[i], b[i]
        if x is not None and y is not None and x != y:
            d += 0.5
    return round(d, 6)


def nearest(mine: Features, candidates: list[Candidate], n: int = 3) -> list[Candidate]:
    """The n candidates closest to a tool with `features` mine, ties broken by name so the
    choice is stable."""
    return heapq.nsmallest(n, candidates, key=lambda c: (feature_distance(mine, c.features), c.name))


def nearest_stored(mine: Features, rows, n: int, parse) -> list[int]:
    """The ids `nearest` picks from rows of (pk, name, stored features as JSON text or None).

    A grown catalog holds many tools with the same facts: rows are grouped by their features'
    text, so each distinct list is decoded and scored once, and only the groups that reach the
    n-th distance are sorted by name. `parse(pks)` gives the features of rows stored without.
    Same choice and order as `nearest` over every row: distance, then name (names are unique).
    """
    by_text: dict[str, list[tuple[str, int]]] = {}
    unset: list[tuple[int, str]] = []
    for pk, name, text in rows:
        if text is None or text == "null":  # JSON null decodes as unset too
            unset.append((pk, name))
        else:
            by_text.setdefault(text, []).append((name, pk))
    scored = [(feature_distance(mine, json.loads(text)), members) for text, members in by_text.items()]
    if unset:
        parsed = parse([pk for pk, _ in unset])
        scored += [(feature_distance(mine, parsed[pk]), [(name, pk)]) for pk, name in unset]
    scored.sort(key=lambda group: group[0])
    # Groups in distance order until n tools are in hand; later groups at the same distance may
    # still win on name, farther ones cannot.
    reach: list[tuple[float, list]] = []
    count = 0
    for d, members in scored:
        if count >= n and (not reach or d > reach[-1][0]):
            break
        reach.append((d, members))
        count += len(members)
    ranked = [(d, name, pk) for d, members in reach for name, pk in heapq.nsmallest(n, members)]
    return [pk for _, _, pk in heapq.nsmallest(n, ranked)]
