"""A tool's nearest rivals: the one rule for "who does it compete with", used by every page and review.

Rivals are the tools of the same category whose facts are closest: the same kind of thing,
a similar size, a similar price, deployed the same way. The alphabet plays no part.
"""

import math
from dataclasses import dataclass

from shiporskip.catalog.facts import ToolFacts


@dataclass(frozen=True)
class Candidate:
    slug: str
    name: str
    facts: ToolFacts


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


def distance(a: ToolFacts, b: ToolFacts) -> float:
    """How far apart two tools' facts are: kind, size, price and deployment."""
    d = 0.0 if a.kind == b.kind else 2.0
    sa, sb = a.max_parameters_billions(), b.max_parameters_billions()
    if sa is not None or sb is not None:
        d += min(_log_gap(sa, sb), 2.0)
    pa, pb = price_point(a), price_point(b)
    if pa and pb and pa[0] == pb[0]:
        d += min(_log_gap(pa[1], pb[1], plus=1.0), 2.0)
    elif pa or pb:
        d += 0.5
    for flag in ("self_hostable", "open_weights", "open_source", "api_available"):
        x, y = getattr(a, flag), getattr(b, flag)
        if x is not None and y is not None and x != y:
            d += 0.5
    return round(d, 6)


def nearest(facts: ToolFacts, candidates: list[Candidate], n: int = 3) -> list[Candidate]:
    """The n candidates closest to `facts`, ties broken by name so the choice is stable."""
    return sorted(candidates, key=lambda c: (distance(facts, c.facts), c.name))[:n]
