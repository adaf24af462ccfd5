"""How much of a tool's evidence is known, and how old it is: computed, never typed in.

A field counts only where it applies to the tool's kind (a library has no context window,
a hosted API no model sizes), so coverage is the share of the fields that matter for it.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from shiporskip.catalog.facts import ToolFacts

ALL = {"model", "app", "api", "library", "platform"}
HOSTED = {"app", "api", "platform"}


def _known(value) -> bool:
    return value not in (None, "", [])


def _group(facts: ToolFacts, group: str, name: str):
    g = getattr(facts, group)
    return None if g is None else getattr(g, name)


# (label, kinds it applies to, reader). A reader returns None / empty when the fact is unknown.
FIELDS: list[tuple[str, set[str], Callable[[ToolFacts], object]]] = [
    ("pricing model", ALL, lambda f: f.pricing_model),
    ("licence", ALL, lambda f: f.license_kind),
    ("release year", ALL, lambda f: f.release_year),
    ("runtimes", ALL, lambda f: f.runtimes),
    ("self-hostable", ALL, lambda f: f.self_hostable),
    ("API available", ALL, lambda f: f.api_available),
    ("open source", {"app", "library", "platform"}, lambda f: f.open_source),
    ("open weights", {"model"}, lambda f: f.open_weights),
    ("parameters", {"model"}, lambda f: f.parameters),
    ("context window", {"model", "api"}, lambda f: f.context_window),
    ("price", ALL, lambda f: price_number(f)),
    ("free tier", ALL, lambda f: _group(f, "price", "free_tier")),
    ("token prices", {"api"}, lambda f: _group(f, "price", "input_per_mtok")),
    ("capability evidence", {"model", "api", "app", "platform"}, lambda f: f.capabilities),
    ("max output", {"model", "api"}, lambda f: _group(f, "limits", "max_output_tokens")),
    ("sizes and memory", {"model"}, lambda f: _group(f, "limits", "sizes")),
    ("GPU required", {"model", "library", "app"}, lambda f: _group(f, "limits", "gpu_required")),
    ("platforms", {"app", "library"}, lambda f: _group(f, "limits", "platforms")),
    (
        "adoption",
        ALL,
        lambda f: (
            f.adoption
            and next(
                (
                    v
                    for v in (
                        f.adoption.stars,
                        f.adoption.contributors,
                        f.adoption.last_release,
                        f.adoption.users,
                        f.adoption.usage,
                    )
                    if v is not None
                ),
                None,
            )
        ),
    ),
    (
        "cloud or on-device",
        ALL,
        lambda f: (
            f.deployment
            and next((v for v in (f.deployment.cloud, f.deployment.on_device) if v is not None), None)
        ),
    ),
    ("data retention", HOSTED, lambda f: _group(f, "deployment", "data_retention")),
    ("training on your data", HOSTED, lambda f: _group(f, "deployment", "trains_on_your_data")),
    ("certifications", HOSTED, lambda f: _group(f, "deployment", "certifications")),
    ("commercial terms", ALL, lambda f: _group(f, "terms", "commercial_use")),
]


def price_number(f: ToolFacts) -> float | None:
    """A price in numbers: a seat, a token price or a gateway's fee (0 counts: it is free)."""
    p = f.price
    if p is None:
        return None
    return next(
        (v for v in (p.seat_monthly, p.input_per_mtok, p.platform_fee_percent) if v is not None), None
    )


def applies(label: str, kinds: set[str], facts: ToolFacts) -> bool:
    # A library with a published benchmark counts it; one without is not marked down.
    if label == "capability evidence" and facts.capabilities:
        return True
    return facts.kind in kinds


@dataclass(frozen=True)
class Coverage:
    known: tuple[str, ...]
    unknown: tuple[str, ...]
    evidence: int
    oldest: datetime.date
    checked: datetime.date  # the oldest date among figures that go stale
    warnings: tuple[str, ...] = field(default=())

    @property
    def total(self) -> int:
        return len(self.known) + len(self.unknown)

    @property
    def share(self) -> float:
        return round(len(self.known) / self.total, 3) if self.total else 1.0

    @property
    def stale(self) -> bool:
        return any(w.startswith("facts older") for w in self.warnings)

    @property
    def months_since_checked(self) -> int:
        return max(0, (datetime.date.today() - self.checked).days // 30)

    def as_json(self, slug: str) -> dict:
        return {
            "slug": slug,
            "coverage": self.share,
            "evidence": self.evidence,
            "oldest_as_of": self.oldest.isoformat(),
            "checked": self.checked.isoformat(),
            "stale": self.stale,
            "warnings": list(self.warnings),
            "unknown": list(self.unknown),
        }


def coverage(facts: ToolFacts, *, today: datetime.date | None = None) -> Coverage:
    """Return which applicable fields are known, the evidence count, age and warnings."""
    known: list[str] = []
    unknown: list[str] = []
    for label, kinds, read in FIELDS:
        if applies(label, kinds, facts):
            (known if _known(read(facts)) else unknown).append(label)
    return Coverage(
        tuple(known),
        tuple(unknown),
        len(facts.capabilities),
        min(facts.evidence_dates()),
        checked_on(facts),
        tuple(warnings(facts, today or datetime.date.today())),
    )


def checked_on(facts: ToolFacts) -> datetime.date:
    """The oldest date among figures that go stale: the record, prices and adoption.

    A benchmark run or a licence text stays true for its date; a price or a star count does not.
    """
    groups = [facts.price, facts.adoption]
    return min([facts.facts_as_of, *(g.as_of for g in groups if g is not None)])


def warnings(facts: ToolFacts, today: datetime.date) -> list[str]:
    found = []
    if price_number(facts) is None:
        found.append("no price in numbers")
    if not facts.capabilities and facts.kind != "library":
        found.append("no capability evidence")
    limit = settings.SHIPORSKIP_FACTS_STALE_DAYS
    checked = checked_on(facts)
    if (today - checked).days > limit:
        found.append(f"facts older than {limit} days (checked {checked})")
    insecure = sorted({str(u) for u in source_urls(facts) if not str(u).startswith("https://")})
    found += [f"source is not https: {url}" for url in insecure]
    return found


def source_urls(facts: ToolFacts) -> list:
    groups = [
        facts.price,
        facts.limits,
        facts.adoption,
        facts.deployment,
        facts.terms,
        *facts.capabilities,
        *(facts.limits.sizes if facts.limits else []),
    ]
    return [*facts.sources, *(g.source for g in groups if g is not None)]
