"""The Evidence panel and the comparison's evidence rows, from a tool's facts.

Every row carries the source and date of its figure; an applicable field with no figure is a
row too, marked "not known", so a reader sees what is missing rather than nothing.
"""

import datetime
from dataclasses import dataclass

from shiporskip.catalog.coverage import FIELDS, applies
from shiporskip.catalog.facts import ToolFacts


@dataclass(frozen=True)
class Item:
    label: str
    value: str | None  # None: not known
    source: str | None = None
    as_of: datetime.date | None = None
    note: str = ""


def money(amount: float | None, currency: str = "USD") -> str | None:
    if amount is None:
        return None
    text = f"{amount:,.2f}".removesuffix(".00")
    return f"${text}" if currency == "USD" else f"{text} {currency}"


def yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def tokens(n: int | None) -> str | None:
    return None if n is None else f"{n:,} tokens"


def price_items(f: ToolFacts) -> list[Item]:
    p = f.price
    if p is None:
        return [Item("Price", None)]
    src = (str(p.source), p.as_of)
    items = []
    if p.seat_monthly is not None:
        plan = f" ({p.seat_plan})" if p.seat_plan else ""
        text = "free" if p.seat_monthly == 0 else f"{money(p.seat_monthly, p.currency)} a seat a month{plan}"
        items.append(Item("Entry price", text, *src))
    if p.input_per_mtok is not None or p.output_per_mtok is not None:
        text = (
            f"{money(p.input_per_mtok, p.currency) or '?'} in / "
            f"{money(p.output_per_mtok, p.currency) or '?'} out per 1M tokens"
        )
        items.append(Item("Token price", text, *src, note=p.token_model or ""))
    free = yes_no(p.free_tier)
    items.append(
        Item("Free tier", free and (f"{free}: {p.free_tier_limits}" if p.free_tier_limits else free), *src)
    )
    return items


def capability_items(f: ToolFacts) -> list[Item]:
    return [Item(c.label, c.shown(), str(c.source), c.as_of, note=c.setup or "") for c in f.capabilities]


def limit_items(f: ToolFacts) -> list[Item]:
    record = (str(f.sources[0]), f.facts_as_of)
    items = [Item("Context window", tokens(f.context_window), *record)] if f.kind in {"model", "api"} else []
    lim = f.limits
    if lim is None:
        return items + [Item("Limits", None)]
    src = (str(lim.source), lim.as_of)
    items.append(Item("Max output", tokens(lim.max_output_tokens), *src))
    for size in lim.sizes:
        memory = f"{size.memory_gb:g} GB ({size.quantisation})" if size.memory_gb else None
        items.append(
            Item(f"Size {size.parameters}", memory or "memory not known", str(size.source), size.as_of)
        )
    items.append(Item("GPU required", yes_no(lim.gpu_required), *src))
    items.append(Item("Platforms", ", ".join(lim.platforms) or None, *src))
    return items


def adoption_items(f: ToolFacts) -> list[Item]:
    a = f.adoption
    if a is None:
        return [Item("Adoption", None)]
    src = (str(a.source), a.as_of)
    rows = [
        Item("Repository", str(a.repository) if a.repository else None, *src),
        Item("GitHub stars", f"{a.stars:,}" if a.stars is not None else None, *src),
        Item("Contributors", f"{a.contributors:,}" if a.contributors is not None else None, *src),
        Item("Last release", a.last_release.isoformat() if a.last_release else None, *src),
        Item(
            "Users",
            f"{a.users:,}" if a.users is not None else None,
            *((str(a.users_source), a.users_as_of) if a.users_source else src),
        ),
        Item("Usage", a.usage, *src),
    ]
    return [r for r in rows if r.value is not None] or [Item("Adoption", None, *src)]


def deployment_items(f: ToolFacts) -> list[Item]:
    d = f.deployment
    record = (str(f.sources[0]), f.facts_as_of)
    items = [Item("Self-hostable", yes_no(f.self_hostable), *record)]
    if d is None:
        return items + [Item("Data handling", None)]
    src = (str(d.source), d.as_of)
    items += [
        Item("Hosted (cloud)", yes_no(d.cloud), *src),
        Item("Runs on-device", yes_no(d.on_device), *src),
    ]
    if f.kind in {"app", "api", "platform"}:
        items += [
            Item("Data retention", d.data_retention, *src),
            Item("Trains on your data", yes_no(d.trains_on_your_data), *src),
            Item("Certifications", ", ".join(d.certifications) or None, *src),
        ]
    return items


def terms_items(f: ToolFacts) -> list[Item]:
    t = f.terms
    return [
        Item("Commercial use", t.commercial_use, str(t.source), t.as_of)
        if t
        else Item("Commercial use", None)
    ]


GROUPS = [
    ("Price", price_items),
    ("Capability", capability_items),
    ("Limits and needs", limit_items),
    ("Adoption and health", adoption_items),
    ("Deployment and data", deployment_items),
    ("Licence terms", terms_items),
]


def evidence_groups(f: ToolFacts) -> list[tuple[str, list[Item]]]:
    """The Evidence panel: (group title, items), every applicable unknown included."""
    groups = []
    for title, build in GROUPS:
        items = build(f)
        if title == "Capability" and not items:
            wanted = any(
                label == "capability evidence" and applies(label, kinds, f) for label, kinds, _ in FIELDS
            )
            items = [Item("Public benchmark figures", None)] if wanted else []
        if items:
            groups.append((title, items))
    return groups


@dataclass(frozen=True)
class CompareRow:
    label: str
    left: str | None
    right: str | None
    better: str | None = None  # "left", "right" or None where no side is better or it is not meaningful


def _better(a, b, *, higher: bool) -> str | None:
    if a is None or b is None or a == b:
        return None
    return "left" if (a > b) == higher else "right"


def _row(label, a, b, show, *, higher: bool | None = None) -> CompareRow | None:
    if a is None and b is None:
        return None
    better = None if higher is None else _better(a, b, higher=higher)
    return CompareRow(label, None if a is None else show(a), None if b is None else show(b), better)


def _get(f: ToolFacts, group: str, name: str):
    g = getattr(f, group)
    return None if g is None else getattr(g, name)


def compare_rows(a: ToolFacts, b: ToolFacts) -> list[CompareRow]:
    """The rows a developer compares, the better value marked where the comparison means something."""
    same = _get(a, "price", "currency") == _get(b, "price", "currency")
    cur = _get(a, "price", "currency") or "USD"
    rows = [
        _row(
            "Entry price a seat",
            _get(a, "price", "seat_monthly"),
            _get(b, "price", "seat_monthly"),
            lambda v: "free" if v == 0 else f"{money(v, cur)}/month",
            higher=False,
        )
        if same
        else _row("Entry price a seat", *_seat_each(a, b), str),
        _token_row(a, b),
        _row(
            "Platform fee",
            _get(a, "price", "platform_fee_percent"),
            _get(b, "price", "platform_fee_percent"),
            lambda v: f"{v:g}% on top of model prices",
            higher=False,
        ),
        _row("Free tier", _get(a, "price", "free_tier"), _get(b, "price", "free_tier"), yes_no),
        _row("Context window", a.context_window, b.context_window, tokens, higher=True),
        _row(
            "Max output",
            _get(a, "limits", "max_output_tokens"),
            _get(b, "limits", "max_output_tokens"),
            tokens,
            higher=True,
        ),
        *_capability_rows(a, b),
        _row(
            "Smallest size needs",
            a.smallest_memory_gb(),
            b.smallest_memory_gb(),
            lambda v: f"{v:g} GB",
            higher=False,
        ),
        _row("Sizes", a.parameters, b.parameters, str),
        _row(
            "GPU required",
            _get(a, "limits", "gpu_required"),
            _get(b, "limits", "gpu_required"),
            yes_no,
            higher=False,
        ),
        _row("Commercial use", _get(a, "terms", "commercial_use"), _get(b, "terms", "commercial_use"), str),
        _row(
            "GitHub stars",
            _get(a, "adoption", "stars"),
            _get(b, "adoption", "stars"),
            lambda v: f"{v:,}",
            higher=True,
        ),
        _row(
            "Last release",
            _get(a, "adoption", "last_release"),
            _get(b, "adoption", "last_release"),
            lambda v: v.isoformat(),
            higher=True,
        ),
    ]
    return [r for r in rows if r is not None]


def _seat_each(a: ToolFacts, b: ToolFacts) -> tuple[str | None, str | None]:
    """Seat prices in two currencies: each shown in its own, neither marked better."""

    def shown(f):
        p = f.price
        return None if p is None or p.seat_monthly is None else f"{money(p.seat_monthly, p.currency)}/month"

    return shown(a), shown(b)


def _token_row(a: ToolFacts, b: ToolFacts) -> CompareRow | None:
    def pair(f):
        p = f.price
        if p is None or p.input_per_mtok is None or p.output_per_mtok is None:
            return None
        return (p.input_per_mtok, p.output_per_mtok)

    pa, pb = pair(a), pair(b)
    better = None
    if a.price and b.price and a.price.currency != b.price.currency:
        pa = pb = None  # prices in two currencies do not compare
    if pa and pb and pa != pb:  # cheaper only when cheaper on both sides of the bill
        if pa[0] <= pb[0] and pa[1] <= pb[1]:
            better = "left"
        elif pb[0] <= pa[0] and pb[1] <= pa[1]:
            better = "right"
    show = lambda v: f"{money(v[0])} in / {money(v[1])} out per 1M"  # noqa: E731
    if pa is None and pb is None:
        return None
    return CompareRow("Token price", pa and show(pa), pb and show(pb), better)


def _capability_rows(a: ToolFacts, b: ToolFacts) -> list[CompareRow]:
    """One row per benchmark both tools have a figure for (others are not comparable)."""
    rows = []
    theirs = b.comparable()  # Elo only within one snapshot; hardware-bound figures never
    for key, ca in a.comparable().items():
        cb = theirs.get(key)
        if cb is None:
            continue
        better = _better(ca.value, cb.value, higher=ca.higher_is_better)
        rows.append(
            CompareRow(
                ca.label,
                f"{ca.shown()} ({ca.setup})" if ca.setup else ca.shown(),
                f"{cb.shown()} ({cb.setup})" if cb.setup else cb.shown(),
                better,
            )
        )
    return rows
