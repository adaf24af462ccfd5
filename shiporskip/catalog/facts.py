"""The schema of a tool's facts record: what every review must be grounded in.

Facts are the only claims a review may make about a tool, so they are validated on the
way in (catalog file, CLI, admin) and an unknown or malformed field is refused by name.
"""

import datetime
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from shiporskip import control_chars
from shiporskip.catalog.evidence import Adoption, Capability, Deployment, Limits, Price, Terms

Kind = Literal["model", "app", "api", "library", "platform"]
LicenseKind = Literal["permissive", "copyleft", "restricted", "proprietary"]
PricingModel = Literal["free", "freemium", "subscription", "usage", "enterprise"]


class ToolFacts(BaseModel):
    """Checked facts about one tool. None means "not known", never "no"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Kind = Field(description="What the primitive is: model, app, api, library or platform.")
    open_weights: bool | None = Field(None, description="Model weights can be downloaded.")
    open_source: bool | None = Field(None, description="Source code under an OSI licence.")
    license_kind: LicenseKind | None = Field(None, description="How freely it may be used.")
    pricing_model: PricingModel | None = Field(None, description="How users pay for it.")
    self_hostable: bool | None = Field(None, description="Runs on the user's own hardware.")
    parameters: str | None = Field(None, max_length=60, description='Model size, e.g. "22B".')
    context_window: int | None = Field(None, gt=0, le=100_000_000, description="Tokens.")
    runtimes: list[str] = Field(default_factory=list, description="Where it runs.")
    api_available: bool | None = Field(None, description="Offers a programmatic API.")
    release_year: int | None = Field(None, ge=1990, le=2100, description="Year of first release.")
    facts_as_of: datetime.date = Field(description="The date these facts were checked.")
    sources: list[HttpUrl] = Field(min_length=1, description="Where the facts come from.")
    # Evidence: each group has its own source and date (shiporskip/catalog/evidence.py).
    price: Price | None = Field(None, description="Prices in numbers.")
    capabilities: list[Capability] = Field(default_factory=list, description="Benchmark figures.")
    limits: Limits | None = Field(None, description="Limits and what it needs to run.")
    adoption: Adoption | None = Field(None, description="Adoption and project health.")
    deployment: Deployment | None = Field(None, description="Where it runs; data handling.")
    terms: Terms | None = Field(None, description="Commercial-use terms of the licence.")

    def evidence_dates(self) -> list[datetime.date]:
        """Every date the record's figures were true on, the record's own included."""
        groups = [
            self.price,
            self.limits,
            self.adoption,
            self.deployment,
            self.terms,
            *self.capabilities,
            *(self.limits.sizes if self.limits else []),
        ]
        return [self.facts_as_of, *(g.as_of for g in groups if g is not None)]

    def capability(self, metric: str) -> Capability | None:
        """The best figure recorded for `metric` (tools may list several setups)."""
        found = [c for c in self.capabilities if c.metric == metric]
        if not found:
            return None
        return max(found, key=lambda c: c.value if c.higher_is_better else -c.value)

    def comparable(self) -> dict[str, Capability]:
        """The best figure per comparable benchmark (hardware-bound figures are left out)."""
        best: dict[str, Capability] = {}
        for c in self.capabilities:
            key = c.comparable_as
            if key and (key not in best or (c.value > best[key].value) == c.higher_is_better):
                best[key] = c
        return best

    def smallest_memory_gb(self) -> float | None:
        sizes = [s.memory_gb for s in (self.limits.sizes if self.limits else []) if s.memory_gb]
        return min(sizes) if sizes else None

    def max_parameters_billions(self) -> float | None:
        """Return the largest parameter count named in `parameters`, in billions."""
        sizes = re.findall(r"(\d+(?:\.\d+)?)\s*([BbMmTt])\b", self.parameters or "")
        scale = {"m": 0.001, "b": 1.0, "t": 1000.0}
        values = [float(n) * scale[unit.lower()] for n, unit in sizes]
        return max(values) if values else None


class FactsError(ValueError):
    """Malformed facts; the message names each bad field."""


def validate_facts(data: object) -> ToolFacts:
    """Return the facts parsed from `data`, or raise FactsError naming the bad fields."""
    # Refused by name before the model: its URL fields would silently drop a line break.
    if message := control_chars.find(data, path=("facts",)):
        raise FactsError(message)
    try:
        return ToolFacts.model_validate(data)
    except ValidationError as exc:
        raise FactsError(describe_errors(exc, prefix="facts")) from None


def describe_errors(exc: ValidationError, *, prefix: str = "") -> str:
    """Turn a pydantic error into one line per field: `facts.kind: Input should be ...`."""
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        lines.append(f"{path}: {err['msg']}")
    return "; ".join(lines)
