"""Asking a persona N times: the stored review is the mean of N computed scores, with their spread.

One model call is one draw; its score can move by several points on a second call. With N
samples the score is the rounded mean of the N scores (each already the verdict rule's),
the range is their lowest and highest, the criteria are their per-key means, and the
sections come from the sample whose score is closest to the mean.
"""

import statistics
from dataclasses import replace

from shiporskip.panel.backends.base import (
    Reviewer,
    ReviewerError,
    ReviewReply,
    ReviewRequest,
    ReviewResult,
)
from shiporskip.panel.verdict import verdict_for

MAX_SAMPLES = 10


def check_samples(samples: int) -> int:
    """Return `samples` if it is a whole number from 1 to MAX_SAMPLES, else raise ValueError."""
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be a whole number from 1 to {MAX_SAMPLES}, not {samples!r}")
    return samples


def ask(reviewer: Reviewer, request: ReviewRequest, samples: int = 1) -> ReviewResult:
    """Ask the reviewer `samples` times for one persona and combine the answers."""
    results: list[ReviewResult] = []
    for sample in range(samples):
        try:
            results.append(reviewer.review(replace(request, sample=sample)))
        except ReviewerError as exc:  # keep the replies the earlier samples sent back
            kept = tuple(a for r in results for a in r.attempts)
            raise ReviewerError(
                str(exc),
                kind=exc.kind,
                retryable=exc.retryable,
                retry_after=exc.retry_after,
                attempts=kept + exc.attempts,
            ) from None
    return combine(results, request.persona.ship_threshold)


def combine(results: list[ReviewResult], threshold: int) -> ReviewResult:
    """One result from N samples: mean score, its range, summed usage, one sample's text."""
    if len(results) == 1 or results[0].reply.score is None:  # one draw, or an abstention
        return results[0]
    score = round(statistics.fmean(_scored(r) for r in results))
    closest = min(results, key=lambda r: abs(_scored(r) - score))
    reply = ReviewReply(
        score=score,
        verdict=verdict_for(score, threshold),
        criteria=mean_criteria(results),
        sections=closest.reply.sections,
    )
    return ReviewResult(
        reply=reply,
        model=closest.model,
        raw=closest.raw,
        tokens_in=sum(r.tokens_in for r in results),
        tokens_out=sum(r.tokens_out for r in results),
        latency_ms=sum(r.latency_ms for r in results),
        cost_usd=sum(r.cost_usd for r in results),
        repairs=tuple(f"sample {i}: {note}" for i, r in enumerate(results, 1) for note in r.repairs),
        attempts=tuple(a for r in results for a in r.attempts),
        retries=sum(r.retries for r in results),
        score_range=(min(_low(r) for r in results), max(_high(r) for r in results)),
        unknown=results[0].unknown,
        samples=len(results),
    )


def mean_criteria(results: list[ReviewResult]) -> dict[str, int]:
    """Per-criterion means: the weighted mean of them is the mean score, give or take rounding."""
    keys = [k for k in results[0].reply.criteria if all(k in r.reply.criteria for r in results)]
    return {k: round(statistics.fmean(r.reply.criteria[k] for r in results)) for k in keys}


def _scored(result: ReviewResult) -> int:
    """A sample's score. Whether a persona abstains rests on the request's facts alone, the
    same for every sample: `combine` checks the first, so every sample here has a score."""
    score = result.reply.score
    assert score is not None
    return score


def _low(result: ReviewResult) -> int:
    return _scored(result) if result.score_range is None else result.score_range[0]


def _high(result: ReviewResult) -> int:
    return _scored(result) if result.score_range is None else result.score_range[1]
