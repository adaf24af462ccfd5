"""The evidence groups of a facts record: the numbers that decide whether a team ships a tool.

Every group carries its own `source` and `as_of`, because a price, a benchmark score and a
licence clause come from different pages on different days. A field left out means "not
known": it is shown as unknown and never scored as bad.
"""

import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

# A public benchmark's key, its label, its unit, and which way is better. A figure with a
# known metric must use that metric's unit, so that two tools' figures can be compared.
METRICS: dict[str, tuple[str, str, bool]] = {
    "swe_bench_verified": ("SWE-bench Verified", "percent", True),
    "aider_polyglot": ("Aider polyglot", "percent", True),
    "terminal_bench": ("Terminal-Bench", "percent", True),
    "livecodebench": ("LiveCodeBench", "percent", True),
    "humaneval": ("HumanEval", "percent", True),
    "mbpp": ("MBPP", "percent", True),
    "mmlu": ("MMLU", "percent", True),
    "mmlu_pro": ("MMLU-Pro", "percent", True),
    "gpqa_diamond": ("GPQA Diamond", "percent", True),
    "math": ("MATH", "percent", True),
    "aime": ("AIME", "percent", True),
    "bfcl": ("Berkeley Function Calling", "percent", True),
    "gaia": ("GAIA", "percent", True),
    "lmarena_text": ("LMArena text", "elo", True),
    "tokens_per_second": ("Throughput", "tokens/s", True),
    "time_to_first_token": ("Time to first token", "ms", False),
}
UNITS = {"percent": "%", "elo": "Elo", "tokens/s": "tokens/s", "ms": "ms"}
# Figures bound to the hardware they ran on: shown, never ranked or compared across tools.
HARDWARE_BOUND = {"tokens_per_second", "time_to_first_token"}
# Figures that mean nothing without the harness, model or hardware that produced them.
NEEDS_SETUP = {
    "swe_bench_verified",
    "terminal_bench",
    "aider_polyglot",
    "tokens_per_second",
    "time_to_first_token",
    "gaia",
}


def today() -> datetime.date:
    return datetime.date.today()


class Sourced(BaseModel):
    """A group of figures from one public page, true on `as_of`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: HttpUrl = Field(description="The public page the figures come from.")
    as_of: datetime.date = Field(description="The date the figures were true (or checked).")

    @field_validator("as_of")
    @classmethod
    def not_in_future(cls, value: datetime.date) -> datetime.date:
        if value > today():
            raise ValueError(f"{value} is in the future; give the date the figure was true")
        return value


class Price(Sourced):
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")
    free_tier: bool | None = Field(None, description="A free plan or free use exists.")
    free_tier_limits: str | None = Field(None, max_length=300)
    seat_monthly: float | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="Cheapest paid plan per seat per month, billed monthly; 0 when free.",
    )
    seat_plan: str | None = Field(None, max_length=80)
    input_per_mtok: float | None = Field(None, ge=0, le=10_000, description="Per 1M input tokens.")
    output_per_mtok: float | None = Field(None, ge=0, le=10_000, description="Per 1M output tokens.")
    token_model: str | None = Field(None, max_length=120, description="The model those prices are for.")
    platform_fee_percent: float | None = Field(
        None, ge=0, le=100, description="A gateway's fee on top of model prices."
    )
    note: str | None = Field(None, max_length=400, description="Qualifiers: caching, batch, regions.")

    @model_validator(mode="after")
    def tokens_name_their_model(self):
        if (self.input_per_mtok is not None or self.output_per_mtok is not None) and not self.token_model:
            raise ValueError("token prices need `token_model`, the model they are for")
        return self


class Capability(Sourced):
    metric: str = Field(pattern=r"^[a-z0-9_]+$", max_length=60)
    value: float = Field(ge=0, le=1_000_000)
    unit: str
    setup: str | None = Field(None, max_length=500, description="Harness, model or hardware.")

    @model_validator(mode="after")
    def unit_fits_metric(self):
        if self.unit not in UNITS:
            raise ValueError(f"unit {self.unit!r} is not one of {', '.join(UNITS)}")
        known = METRICS.get(self.metric)
        if known and known[1] != self.unit:
            raise ValueError(f"{self.metric} is measured in {known[1]}, not {self.unit}")
        if self.unit == "percent" and self.value > 100:
            raise ValueError(f"{self.value} is not a percentage")
        if self.metric in NEEDS_SETUP and not self.setup:
            raise ValueError(f"{self.metric} needs `setup`: the harness, model or hardware behind it")
        return self

    @property
    def label(self) -> str:
        return METRICS.get(self.metric, (self.metric.replace("_", " "),))[0]

    @property
    def higher_is_better(self) -> bool:
        return METRICS.get(self.metric, ("", "", True))[2]

    @property
    def comparable_as(self) -> str | None:
        """The key under which two tools' figures compare: Elo only within one snapshot."""
        if self.metric in HARDWARE_BOUND:
            return None
        return f"{self.metric}@{self.as_of}" if self.unit == "elo" else self.metric

    def shown(self) -> str:
        value = f"{self.value:g}"
        return f"{value}%" if self.unit == "percent" else f"{value} {UNITS[self.unit]}"


class Size(Sourced):
    parameters: str = Field(max_length=80, description='As written, e.g. "0.5B".')
    memory_gb: float | None = Field(None, gt=0, le=10_000)
    quantisation: str | None = Field(None, max_length=80)

    @model_validator(mode="after")
    def memory_names_quantisation(self):
        if self.memory_gb is not None and not self.quantisation:
            raise ValueError("memory_gb needs `quantisation` (e.g. Q4_K_M, BF16)")
        return self


class Limits(Sourced):
    max_output_tokens: int | None = Field(None, gt=0, le=100_000_000)
    gpu_required: bool | None = None
    platforms: list[str] = Field(default_factory=list)
    sizes: list[Size] = Field(default_factory=list)


class Adoption(Sourced):
    repository: HttpUrl | None = None
    stars: int | None = Field(None, ge=0)
    contributors: int | None = Field(None, ge=0)
    last_release: datetime.date | None = None
    users: int | None = Field(None, ge=0, description="A published headcount: users, subscribers, installs.")
    # A headcount is often published elsewhere than the repository: it may carry its own source.
    users_source: HttpUrl | None = None
    users_as_of: datetime.date | None = None
    usage: str | None = Field(None, max_length=500, description="A published usage figure, in words.")

    @model_validator(mode="after")
    def users_dated(self):
        if self.users_as_of and self.users_as_of > today():
            raise ValueError(f"users_as_of {self.users_as_of} is in the future")
        if (self.users_source is None) != (self.users_as_of is None):
            raise ValueError("users_source and users_as_of go together")
        return self


class Deployment(Sourced):
    cloud: bool | None = None
    on_device: bool | None = None
    data_retention: str | None = Field(None, max_length=500)
    trains_on_your_data: bool | None = None
    certifications: list[str] = Field(default_factory=list)


class Terms(Sourced):
    commercial_use: str = Field(min_length=3, max_length=300, description="One line on commercial use.")


GroupName = Literal["price", "capabilities", "limits", "adoption", "deployment", "terms"]
