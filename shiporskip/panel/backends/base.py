"""The reviewer-backend interface: one method, `review(request) -> ReviewResult`."""

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from shiporskip.catalog.facts import ToolFacts
from shiporskip.panel.standing import Market


class ReviewReply(BaseModel):
    """What a reviewer must return for one persona: the review schema, in one place."""

    model_config = ConfigDict(extra="forbid")
    score: int | None = Field(ge=0, le=100, description="Overall score out of 100; none: nothing known.")
    verdict: str = Field(pattern="^(ship|skip|none)$", description="ship or skip (none: abstains).")
    criteria: dict[str, int] = Field(description="Sub-score 0-100 for each criterion key.")
    sections: dict[str, str] = Field(description="Text for each section key of the persona.")


@dataclass(frozen=True)
class Rival:
    """A nearest rival as a reviewer sees it: enough to compare figures, nothing more."""

    name: str
    vendor: str
    facts: ToolFacts


@dataclass(frozen=True)
class ToolSnapshot:
    """The tool as a reviewer sees it: catalog fields, validated facts, its rivals and its market."""

    name: str
    vendor: str
    category: str
    best_for: str
    description: str
    pricing: str
    entry_price: str
    license: str
    facts: ToolFacts
    rivals: tuple[Rival, ...] = ()  # nearest same-category tools by facts, closest first
    market: Market = field(default_factory=Market)

    @property
    def peers(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rivals)


@dataclass(frozen=True)
class ReviewRequest:
    persona: dict  # Persona.spec()
    tool: ToolSnapshot
    prompt: str
    prompt_version: str
    schema: dict = field(default_factory=ReviewReply.model_json_schema)
    unknown: tuple[str, ...] = ()  # criteria whose evidence is unknown: left out of the score


@dataclass(frozen=True)
class FailedAttempt:
    """A reply that could not be made into a review: kept, never stored as one."""

    raw: str
    error: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0


@dataclass(frozen=True)
class ReviewResult:
    reply: ReviewReply
    model: str
    raw: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    cost_usd: float = 0.0
    repairs: tuple[str, ...] = ()  # what parsing fixed, and why earlier attempts failed
    attempts: tuple[FailedAttempt, ...] = ()
    retries: int = 0  # transport retries (429, 5xx, timeouts) before a reply came
    score_range: tuple[int, int] | None = None  # how far the score could move (doubt)
    unknown: tuple[str, ...] = ()  # criteria left out of the score: their facts are unknown


@dataclass(frozen=True)
class Completion:
    """One chat completion's text and usage, from any backend."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str = ""


class ReviewerError(Exception):
    """A review that could not be made; `retryable` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool = False,
                 retry_after: float | None = None, attempts: tuple = ()):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.attempts = attempts


class Reviewer:
    """Base class for backends. Subclasses set `provider` and implement `review`."""

    provider: str = ""
    max_concurrency: int = 4
    rules_version: str = ""  # a backend whose own rules write reviews names their version here

    def __init__(self, model: str = ""):
        self.model = model

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}" if self.model else self.provider

    def review(self, request: ReviewRequest) -> ReviewResult:
        raise NotImplementedError
