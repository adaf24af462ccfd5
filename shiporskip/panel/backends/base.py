"""The reviewer-backend interface: one method, `review(request) -> ReviewResult`."""

import enum
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from shiporskip.catalog.facts import ToolFacts
from shiporskip.panel.specs import PersonaSpec
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
    persona: PersonaSpec  # Persona.spec()
    tool: ToolSnapshot
    prompt: str
    prompt_version: str
    schema: dict = field(default_factory=ReviewReply.model_json_schema)
    unknown: tuple[str, ...] = ()  # criteria whose evidence is unknown: left out of the score
    sample: int = 0  # which of a persona's N samples this call is (0 for the first)


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
    samples: int = 1  # model calls the score is the mean of


@dataclass(frozen=True)
class Completion:
    """One chat completion's text and usage, from any backend."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str = ""
    retries: int = 0  # failed calls the backend's SDK retried before this one answered


class ErrorKind(enum.StrEnum):
    """Why a review could not be made: set where the error is raised, from a status or type."""

    AUTH = "auth"
    UNREACHABLE = "unreachable"
    BAD_MODEL = "bad_model"
    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    INVALID_REPLY = "invalid_reply"
    NOT_CONFIGURED = "not_configured"
    SELF_REVIEW = "self_review"
    TAKEN_OVER = "taken_over"
    CUT_OFF = "cut_off"  # its process was stopped or went silent before the run finished


class ReviewerError(Exception):
    """A review that could not be made; `kind` says why, `retryable` whether trying again helps.

    `kind` is None only for a backend that does not say; its run's public reason is then
    "an internal error".
    """

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        attempts: tuple = (),
    ):
        super().__init__(message)
        self.kind = ErrorKind(kind) if kind else None
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
