"""Fact phrases and computed comparisons for the offline reviewer.

Every claim the offline reviewer writes is built here from a field of the tool's facts or
a rival's; a comparison is written only when both tools publish the figure, and says which
way it goes because the numbers say so.
"""

from dataclasses import dataclass

from shiporskip.catalog.evidence import Size
from shiporskip.catalog.evidence_view import money  # noqa: F401 - writers format prices through here
from shiporskip.catalog.facts import ToolFacts
from shiporskip.panel.backends.base import Rival, ToolSnapshot

KIND = {
    "model": "a model",
    "app": "an application",
    "api": "a hosted API",
    "library": "a library",
    "platform": "a platform",
}


def join(items, empty="none on record") -> str:
    items = list(items)
    if not items:
        return empty
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def maker(t: ToolSnapshot) -> str:
    return t.vendor or f"the makers of {t.name}"


def primitive(t: ToolSnapshot) -> str:
    f = t.facts
    if f.kind == "model" and f.open_weights:
        return f"open weights ({f.parameters})" if f.parameters else "open weights"
    if f.kind == "model" and f.open_weights is False:
        return "a model served by its vendor, with no downloadable weights"
    return KIND[f.kind] + (", open source" if f.open_source else "")


def licence(t: ToolSnapshot) -> str:
    kinds: dict[str | None, str] = {
        "permissive": "a permissive licence",
        "copyleft": "a copyleft licence",
        "restricted": "a licence with use restrictions",
        "proprietary": "proprietary terms",
    }
    kind = kinds.get(t.facts.license_kind)
    if t.license and t.facts.license_kind and t.facts.license_kind in t.license.lower():
        return t.license
    if t.license and kind:
        return f"{t.license}, {kind}"
    return t.license or kind or "a licence our facts do not record"


def price(f: ToolFacts) -> str | None:
    """The price in words from the numbers, or None when no number is known."""
    p = f.price
    if p is None:
        return None
    if p.seat_monthly is not None:
        if p.seat_monthly == 0:
            return "free to use"
        plan = f" for {p.seat_plan}" if p.seat_plan and len(p.seat_plan) < 40 else ""
        return f"{money(p.seat_monthly, p.currency)} a seat a month{plan}"
    if p.input_per_mtok is not None and p.output_per_mtok is not None:
        return (
            f"{money(p.input_per_mtok, p.currency)} in and {money(p.output_per_mtok, p.currency)} "
            f"out per million tokens of {p.token_model}"
        )
    if p.platform_fee_percent is not None:
        return f"model prices plus a {p.platform_fee_percent:g}% platform fee"
    return None


def memory(f: ToolFacts) -> str | None:
    sizes = [s for s in (f.limits.sizes if f.limits else []) if s.memory_gb]
    if not sizes:
        return None
    small = min(sizes, key=_memory_gb)
    big = max(sizes, key=_memory_gb)
    text = f"{small.parameters} takes {small.memory_gb:g} GB ({short(small.quantisation)})"
    if big is not small:
        text += f" and {big.parameters} takes {big.memory_gb:g} GB ({short(big.quantisation)})"
    return text


def _memory_gb(size: Size) -> float:
    return size.memory_gb or 0.0  # only sizes with a figure are compared


def clip(text: str, limit: int) -> str:
    """Shorten at a word boundary, so a figure is never cut in half ("v1.10" read as "v1.1")."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;(") + "…"


def short(text: str | None) -> str:
    head = (text or "").split(" (")[0].split(",")[0][:30]
    return "quantisation not stated" if head.lower().startswith("not stated") else head


def tokens(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M tokens" if n % 100_000 == 0 else f"{n // 1000:,}K tokens"
    return f"{n // 1000:,}K tokens" if n >= 10_000 else f"{n:,} tokens"


@dataclass(frozen=True)
class Contrast:
    """One figure of the tool against one rival's: the words, and whether the tool is ahead."""

    dim: str
    rival: str
    text: str
    ahead: bool | None  # None: different but neither better


def contrasts(t: ToolSnapshot, rival: Rival) -> list[Contrast]:
    """Every figure both publish, compared; the tool's own figure first in each sentence."""
    a, b, name = t.facts, rival.facts, rival.name
    found = []
    theirs = b.comparable()
    for key, ca in a.comparable().items():
        cb = theirs.get(key)
        if cb is None or ca.value == cb.value:
            continue
        ahead = (ca.value > cb.value) == ca.higher_is_better
        found.append(
            Contrast(f"cap:{key}", name, f"{ca.shown()} on {ca.label} against {name}'s {cb.shown()}", ahead)
        )
    found += [
        c
        for c in (
            _price(a, b, name),
            _number(
                a.context_window,
                b.context_window,
                name,
                "context",
                lambda v: f"a {tokens(v)} context window",
                higher=True,
            ),
            _number(
                a.smallest_memory_gb(),
                b.smallest_memory_gb(),
                name,
                "memory",
                lambda v: f"a smallest size of {v:g} GB",
                higher=False,
            ),
            _number(_stars(a), _stars(b), name, "stars", lambda v: f"{v:,} GitHub stars", higher=True),
            _number(
                a.release_year, b.release_year, name, "release_year", lambda v: f"a {v} release", higher=None
            ),
        )
        if c
    ]
    return found


def _stars(f: ToolFacts) -> int | None:
    return f.adoption.stars if f.adoption else None


def _number(x, y, rival: str, dim: str, show, *, higher: bool | None) -> Contrast | None:
    if x is None or y is None or x == y:
        return None
    ahead = None if higher is None else (x > y) == higher
    return Contrast(dim, rival, f"{show(x)} against {rival}'s {show(y).removeprefix('a ')}", ahead)


def _price(a: ToolFacts, b: ToolFacts, rival: str) -> Contrast | None:
    pa, pb = a.price, b.price
    if pa is None or pb is None or pa.currency != pb.currency:
        return None  # prices in two currencies do not compare
    if pa.seat_monthly is not None and pb.seat_monthly is not None and pa.seat_monthly != pb.seat_monthly:
        show = lambda v: "free" if v == 0 else f"{money(v, pa.currency)} a seat"  # noqa: E731
        return Contrast(
            "seat",
            rival,
            f"{show(pa.seat_monthly)} against {rival}'s {show(pb.seat_monthly).removesuffix(' a seat')}",
            pa.seat_monthly < pb.seat_monthly,
        )
    ia, oa, ib, ob = pa.input_per_mtok, pa.output_per_mtok, pb.input_per_mtok, pb.output_per_mtok
    if ia is None or oa is None or ib is None or ob is None:
        return None
    ta = (3 * ia + oa) / 4
    tb = (3 * ib + ob) / 4
    if ta == tb:
        return None
    cur = pa.currency
    return Contrast(
        "tokens",
        rival,
        f"{money(ia, cur)}/{money(oa, cur)} "
        f"per million tokens in/out against {rival}'s {money(ib, cur)}/"
        f"{money(ob, cur)}",
        ta < tb,
    )


def all_contrasts(t: ToolSnapshot) -> list[Contrast]:
    return [c for rival in t.rivals for c in contrasts(t, rival)]
