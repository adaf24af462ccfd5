"""Evidence-based criterion scorers for the offline reviewer: each maps a tool to 0-100, or None.

A scorer judges the tool against its market (its category's and the catalog's figures),
never on a licence flag alone. None means the evidence it needs is not known: the criterion
is then left out of the weighted score and named in the review, never scored low.
"""

import statistics
from collections.abc import Callable

from shiporskip.catalog.coverage import coverage
from shiporskip.catalog.rivals import price_point
from shiporskip.panel.backends.base import ToolSnapshot


def scaled(parts: list[float | None], low: int, span: int) -> int | None:
    """Map the mean of the known parts (each 0-1) onto low..low+span; None if none is known."""
    known = [p for p in parts if p is not None]
    return None if not known else round(low + span * statistics.fmean(known))


def pick(value, table: dict):
    return None if value is None else table.get(value)


def capability_ranks(t: ToolSnapshot, *, wide: bool = False) -> list[float]:
    """Its rank on each benchmark it has a figure for, among tools with a figure for it."""
    ranks = []
    for key, best in t.facts.comparable().items():
        rank = t.market.rank(f"cap:{key}", best.value, higher=best.higher_is_better, wide=wide)
        if rank is not None:
            ranks.append(rank)
    return ranks


def price_rank(t: ToolSnapshot) -> float | None:
    """How cheap it is against its category (1 = cheapest); free counts as cheap outright."""
    p = t.facts.price
    if p is None:
        return None
    if p.seat_monthly == 0:
        return 0.8  # free to use, not free to run: hardware, hours or model tokens still cost
    point = price_point(t.facts)  # the same figure the market holds for it
    ranks = [
        t.market.rank(point[0], point[1], higher=False) if point else None,
        t.market.rank("fee", p.platform_fee_percent, higher=False),
    ]
    known = [r for r in ranks if r is not None]
    return statistics.fmean(known) if known else None


def adoption_rank(t: ToolSnapshot) -> float | None:
    a = t.facts.adoption
    if a is None:
        return None
    parts = [
        t.market.rank("stars", a.stars),
        t.market.rank("users", a.users),
        t.market.rank("contributors", a.contributors),
    ]
    if all(p is None for p in parts) and a.usage:
        parts.append(0.7)  # a published usage figure, even in words, is a sign of scale
    known = [p for p in parts if p is not None]
    return statistics.fmean(known) if known else None


def release_rank(t: ToolSnapshot, *, newer: bool) -> float | None:
    year = t.facts.release_year
    return t.market.rank("release_year", None if year is None else float(year), higher=newer)


def recent_release_rank(t: ToolSnapshot) -> float | None:
    a = t.facts.adoption
    day = a.last_release if a else None
    return t.market.rank("last_release", None if day is None else float(day.toordinal()), wide=True)


LICENCE_EXIT = {"permissive": 1.0, "copyleft": 0.8, "restricted": 0.55, "proprietary": 0.15}
# For a business, a paid vendor contract is a known quantity; a free licence with caps is not.
LICENCE_BUSINESS = {"permissive": 0.95, "copyleft": 0.65, "proprietary": 0.7, "restricted": 0.4}


# Builder -------------------------------------------------------------------------------
def works(t: ToolSnapshot) -> int | None:
    ranks = capability_ranks(t)
    return None if not ranks else round(20 + 75 * statistics.fmean(ranks))


def integration(t: ToolSnapshot) -> int | None:
    f = t.facts
    platforms = f.limits.platforms if f.limits else []
    # The surface you build against: an API, runtimes and platforms. Openness is the Skeptic's
    # and the Futurist's concern; counting it here too would judge every tool on it four times.
    return scaled(
        [
            pick(f.api_available, {True: 1.0, False: 0.3}),
            min(len(f.runtimes), 6) / 6 if f.runtimes else None,
            min(len(platforms), 3) / 3 if platforms else None,
        ],
        25,
        70,
    )


def runs_where_needed(t: ToolSnapshot) -> int | None:
    """Where it can run: platforms reached, self-hosting, no GPU, small memory; hosted is a place too."""
    f, d, lim = t.facts, t.facts.deployment, t.facts.limits
    platforms = lim.platforms if lim else []
    return scaled(
        [
            min(len(platforms), 3) / 3 if platforms else None,
            pick(f.self_hostable, {True: 1.0, False: 0.5}),
            pick(d.cloud if d else None, {True: 0.85}),
            pick(d.on_device if d else None, {True: 1.0}),
            pick(lim.gpu_required if lim else None, {False: 1.0, True: 0.45}),
            t.market.rank("memory", f.smallest_memory_gb(), higher=False, wide=True),
        ],
        20,
        75,
    )


def cost_to_try(t: ToolSnapshot) -> int | None:
    p = t.facts.price
    free = pick(p.free_tier if p else None, {True: 0.95, False: 0.25})
    return scaled([free, price_rank(t)], 15, 80)


# Skeptic -------------------------------------------------------------------------------
def standing(t: ToolSnapshot) -> int | None:
    ranks = capability_ranks(t)
    parts = [statistics.fmean(ranks) if ranks else None, adoption_rank(t)]
    if all(p is None for p in parts):
        return None
    weights = [0.6 if parts[0] is not None else 0, 0.4 if parts[1] is not None else 0]
    value = sum(w * (p or 0) for w, p in zip(weights, parts, strict=True)) / sum(weights)
    return round(15 + 80 * value)


def track_record(t: ToolSnapshot) -> int | None:
    return scaled([release_rank(t, newer=False), recent_release_rank(t)], 25, 70)


def exit_options(t: ToolSnapshot) -> int | None:
    f = t.facts
    opened = (
        None if f.open_weights is None and f.open_source is None else bool(f.open_weights or f.open_source)
    )
    return scaled(
        [
            pick(opened, {True: 1.0, False: 0.2}),
            pick(f.self_hostable, {True: 1.0, False: 0.25}),
            pick(f.license_kind, LICENCE_EXIT),
        ],
        10,
        85,
    )


def checkable(t: ToolSnapshot) -> int | None:
    share = coverage(t.facts).share
    figures = min(len({c.metric for c in t.facts.capabilities}), 4) / 4
    return round(20 + 75 * (0.6 * share + 0.4 * figures))


# Futurist ------------------------------------------------------------------------------
def momentum(t: ToolSnapshot) -> int | None:
    """Newness and release cadence against its category, and the adoption it has gathered."""
    return scaled([release_rank(t, newer=True), recent_release_rank(t), adoption_rank(t)], 15, 80)


def frontier(t: ToolSnapshot) -> int | None:
    ranks = capability_ranks(t, wide=True)
    return None if not ranks else round(20 + 75 * max(ranks))


def open_ecosystem(t: ToolSnapshot) -> int | None:
    f = t.facts
    opened = (
        None if f.open_weights is None and f.open_source is None else bool(f.open_weights or f.open_source)
    )
    reach = min(len(f.runtimes), 6) / 6 if f.runtimes else None
    return scaled([pick(opened, {True: 1.0, False: 0.1}), pick(f.license_kind, LICENCE_EXIT), reach], 10, 85)


def capacity(t: ToolSnapshot) -> int | None:
    f = t.facts
    output = f.limits.max_output_tokens if f.limits else None
    return scaled(
        [
            t.market.rank("context", f.context_window and float(f.context_window)),
            t.market.rank("max_output", output and float(output)),
        ],
        20,
        75,
    )


# Founder -------------------------------------------------------------------------------
def unit_economics(t: ToolSnapshot) -> int | None:
    """Price against rivals, set against what the price buys where a benchmark says."""
    rank = price_rank(t)
    if rank is None:
        return None
    ranks = capability_ranks(t)
    value = 0.5 * rank + 0.5 * statistics.fmean(ranks) if ranks else rank
    return round(15 + 80 * value)


def licence_terms(t: ToolSnapshot) -> int | None:
    value = pick(t.facts.license_kind, LICENCE_BUSINESS)
    return None if value is None else round(15 + 80 * value)


def vendor_durability(t: ToolSnapshot) -> int | None:
    d = t.facts.deployment
    certified = 0.9 if d and d.certifications else None
    return scaled([adoption_rank(t), release_rank(t, newer=False), certified], 20, 75)


def data_terms(t: ToolSnapshot) -> int | None:
    f, d = t.facts, t.facts.deployment
    if f.self_hostable:
        return 92  # the data never leaves your machines
    return scaled(
        [
            pick(d.trains_on_your_data if d else None, {False: 0.8, True: 0.15}),
            0.9 if d and d.certifications else None,
            0.55 if d and d.data_retention else None,
        ],
        15,
        80,
    )


SCORERS: dict[str, Callable[[ToolSnapshot], int | None]] = {
    fn.__name__: fn
    for fn in [
        works,
        integration,
        runs_where_needed,
        cost_to_try,
        standing,
        track_record,
        exit_options,
        checkable,
        momentum,
        frontier,
        open_ecosystem,
        capacity,
        unit_economics,
        licence_terms,
        vendor_durability,
        data_terms,
    ]
}


def score_criterion(key: str, tool: ToolSnapshot) -> int | None:
    """The criterion's score, or None when its evidence is unknown (or no scorer has its key)."""
    scorer = SCORERS.get(key)
    value = scorer(tool) if scorer else None
    return None if value is None else max(0, min(100, value))
