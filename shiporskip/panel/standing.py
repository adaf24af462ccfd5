"""Where a tool stands: its evidence placed among its category's and the catalog's figures.

Criteria are judged relative to the field, not on flags alone: a price is cheap or dear
against what rivals charge, a benchmark score high or low against what rivals score. Dates
of checking play no part, so re-dating unchanged facts changes no score.
"""

import datetime
import functools
import hashlib
import json
from dataclasses import dataclass, field

from shiporskip.catalog.facts import ToolFacts
from shiporskip.catalog.rivals import price_point

# A rank among fewer tools than this says little: the wider field is used instead.
MIN_FIELD = 3


def dimensions(f: ToolFacts) -> dict[str, float]:
    """The numbers a tool is ranked on, by name; unknown ones are absent."""
    dims: dict[str, float] = {}
    for key, best in f.comparable().items():
        dims[f"cap:{key}"] = best.value
    point = price_point(f)
    if point:
        dims[point[0]] = point[1]
    if f.price and f.price.platform_fee_percent is not None:
        dims["fee"] = f.price.platform_fee_percent
    if f.context_window:
        dims["context"] = float(f.context_window)
    if f.limits and f.limits.max_output_tokens:
        dims["max_output"] = float(f.limits.max_output_tokens)
    if (memory := f.smallest_memory_gb()) is not None:
        dims["memory"] = memory
    if f.adoption:
        if f.adoption.stars is not None:
            dims["stars"] = float(f.adoption.stars)
        if f.adoption.users is not None:
            dims["users"] = float(f.adoption.users)
        if f.adoption.contributors is not None:
            dims["contributors"] = float(f.adoption.contributors)
        if f.adoption.last_release:
            dims["last_release"] = float(f.adoption.last_release.toordinal())
    if f.release_year:
        dims["release_year"] = float(f.release_year)
    return dims


@dataclass(frozen=True)
class Market:
    """Each dimension's values across the tool's category and across the whole catalog."""

    category: dict[str, tuple[float, ...]] = field(default_factory=dict)
    catalog: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @functools.cached_property
    def digest(self) -> str:
        """A fingerprint of every figure in the market: reviews ranked against it are reused only as long."""
        blob = json.dumps([self.category, self.catalog], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    @classmethod
    def of(cls, category: list[ToolFacts], catalog: list[ToolFacts]) -> "Market":
        return cls(_collect(category), _collect(catalog))

    def rank(self, dim: str, value: float | None, *, higher: bool = True, wide: bool = False) -> float | None:
        """The share of the field this value beats (0-1, ties count half); None if too few to rank."""
        if value is None:
            return None
        values = self.category.get(dim, ())
        if wide or len(values) < MIN_FIELD:
            values = self.catalog.get(dim, ())
        if len(values) < MIN_FIELD:
            return None
        below = sum(v < value for v in values)
        equal = sum(v == value for v in values)
        share = (below + 0.5 * (equal - 1)) / (len(values) - 1)  # the tool itself is in the field
        share = share if higher else 1 - share
        # First or last of three says less than first or last of thirty: pull small fields
        # toward the middle, so a rank is only as strong as the field behind it.
        n = len(values)
        return 0.5 + (share - 0.5) * (n - 1) / (n + 1)


def _collect(facts: list[ToolFacts]) -> dict[str, tuple[float, ...]]:
    found: dict[str, list[float]] = {}
    for f in facts:
        for dim, value in dimensions(f).items():
            found.setdefault(dim, []).append(value)
    return {dim: tuple(sorted(values)) for dim, values in found.items()}


def release_day(f: ToolFacts) -> datetime.date | None:
    return f.adoption.last_release if f.adoption else None
