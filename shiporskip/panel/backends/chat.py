"""What every LLM backend shares: repair-or-retry of replies, and accounting.

A backend only implements `complete(messages, schema)`; this class turns completions into a
valid review, or a ReviewerError that says why not, with every failed reply kept. Transient
failures of a call (429 with its Retry-After, 5xx, timeouts, lost connections) are retried by
the backend's SDK (openai's `max_retries`); the in-process llama.cpp backend has none.
"""

import random
import time
from dataclasses import dataclass

from django.conf import settings

from shiporskip.panel.backends.base import (
    Completion,
    ErrorKind,
    FailedAttempt,
    Reviewer,
    ReviewerError,
    ReviewRequest,
    ReviewResult,
)
from shiporskip.panel.prices import cost_of
from shiporskip.panel.replies import ReplyError, parse_reply, reply_schema


@dataclass(frozen=True)
class Policy:
    timeout: float
    max_retries: int
    repair_attempts: int
    retry_base: float
    max_tokens: int
    temperature: float

    @classmethod
    def from_settings(cls) -> "Policy":
        return cls(**settings.SHIPORSKIP_LLM)


def backoff_delay(attempt: int, base: float) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(30.0, base * 2**attempt))


class NotACompletion(ReviewerError):
    """An answer that is not a chat completion at all: a proxy's error page, a body with no choices.

    An SDK retries by HTTP status, and this came with a 200, so ChatReviewer asks again itself.
    """

    def __init__(self, message: str, *, retries: int = 0):
        super().__init__(message, kind=ErrorKind.SERVER_ERROR, retryable=True)
        self.retries = retries  # what the SDK had retried before this answer came


class ChatReviewer(Reviewer):
    """Base for backends that answer chat messages (OpenAI-compatible servers, llama.cpp)."""

    def __init__(self, model: str = ""):
        super().__init__(model)
        if not model:
            raise ReviewerError(f"name a model: {self.provider}/<model>", kind=ErrorKind.NOT_CONFIGURED)
        self.policy = Policy.from_settings()
        self.max_concurrency = settings.SHIPORSKIP_CONCURRENCY

    def complete(self, messages: list[dict], schema: dict, sample: int = 0, retries: int = 0) -> Completion:
        """One chat completion; `retries` is how many transient failures the call may retry."""
        raise NotImplementedError

    def review(self, request: ReviewRequest) -> ReviewResult:
        schema = reply_schema(request.persona)
        messages = [{"role": "user", "content": request.prompt}]
        failed: list[FailedAttempt] = []
        retries = 0
        for _ in range(self.policy.repair_attempts + 1):
            started = time.monotonic()
            try:
                completion, used = self._ask(messages, schema, request.sample)
            except ReviewerError as exc:  # keep the replies already sent back
                raise ReviewerError(
                    str(exc),
                    kind=exc.kind,
                    retryable=exc.retryable,
                    retry_after=exc.retry_after,
                    attempts=tuple(failed),
                ) from None
            retries += used
            latency = int((time.monotonic() - started) * 1000)
            try:
                parsed = parse_reply(completion.text, request.persona, frozenset(request.unknown))
            except ReplyError as exc:
                error = str(exc) + (
                    " (the reply hit the token limit)" if completion.finish_reason == "length" else ""
                )
                failed.append(
                    FailedAttempt(
                        completion.text, error, completion.tokens_in, completion.tokens_out, latency
                    )
                )
                messages = [
                    *messages,
                    {"role": "assistant", "content": completion.text},
                    {"role": "user", "content": feedback(error)},
                ]
                continue
            return self._result(parsed, completion, latency, failed, retries)
        raise ReviewerError(
            f"{request.persona.name}: no valid review after {len(failed)} replies; "
            f"last problem: {failed[-1].error}",
            kind=ErrorKind.INVALID_REPLY,
            attempts=tuple(failed),
        )

    def _result(self, parsed, completion, latency, failed, retries) -> ReviewResult:
        tokens_in = completion.tokens_in + sum(a.tokens_in for a in failed)
        tokens_out = completion.tokens_out + sum(a.tokens_out for a in failed)
        notes = tuple(f"retry after: {a.error}" for a in failed) + tuple(parsed.repairs)
        return ReviewResult(
            reply=parsed.reply,
            model=self.name,
            raw=completion.text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=latency + sum(a.latency_ms for a in failed),
            cost_usd=cost_of(self.name, tokens_in, tokens_out),
            repairs=notes,
            attempts=tuple(failed),
            retries=retries,
        )

    def _ask(self, messages, schema, sample) -> tuple[Completion, int]:
        """One completion, and how many calls were retried on the way: at most max_retries in all.

        Only an answer that is not a completion is asked again here (NotACompletion); every
        other transient failure was retried by the backend's SDK within the same budget.
        """
        retries = 0
        while True:
            try:
                completion = self.complete(
                    messages, schema, sample, retries=self.policy.max_retries - retries
                )
                return completion, retries + completion.retries
            except NotACompletion as exc:
                retries += exc.retries
                if retries >= self.policy.max_retries:
                    raise
                time.sleep(backoff_delay(retries, self.policy.retry_base))
                retries += 1


def repairs_so_far(messages: list[dict]) -> int:
    return (len(messages) - 1) // 2


def temperature_for(policy: Policy, messages: list[dict]) -> float:
    """Warm up on each repair: a near-greedy model otherwise repeats the same bad reply."""
    repairs = repairs_so_far(messages)
    return min(1.0, policy.temperature + 0.3 * repairs) if repairs else policy.temperature


def sampling_for(policy: Policy, messages: list[dict], sample: int = 0) -> dict:
    """Temperature, and a fresh seed per repair and per sample (a fixed seed repeats itself)."""
    repairs = repairs_so_far(messages)
    extra = {"seed": 1000 + 100 * sample + repairs} if repairs or sample else {}
    return {"temperature": temperature_for(policy, messages), **extra}


def feedback(error: str) -> str:
    return (
        f"Your reply was not a valid review: {error}. Reply again with one JSON object "
        "only, following the schema, with every section answering its own question about "
        "this tool in sentences of your own."
    )
