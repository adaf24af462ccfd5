"""The verdict rule, in one place: every backend's score, verdict and doubt come from here.

A review's score is the weighted mean of its criteria sub-scores over the criteria whose
facts are known (an unknown is left out and the weights re-normalised, never scored low);
its verdict is "ship" at or above the persona's bar.
"""

from collections.abc import Mapping, Sequence

from shiporskip.panel.specs import CriterionSpec

# Below this share of a persona's criteria weight resting on known facts, a verdict is provisional.
PROVISIONAL_BELOW = 0.6
# A score this close to the bar could fall either side with a little more evidence.
NEAR_BAR_POINTS = 3


def weighted_score(criteria: Sequence[CriterionSpec], subscores: Mapping[str, float | None]) -> int | None:
    """The weighted mean over known criteria; None when no criterion is known."""
    return weighted_mean({c.key: c.weight for c in criteria}, subscores)


def weighted_mean(weights: Mapping[str, float], subscores: Mapping[str, float | None]) -> int | None:
    """The mean of the known sub-scores by weight (criterion key -> weight), rounded."""
    known = {k: (w, v) for k, w in weights.items() if (v := subscores.get(k)) is not None}
    total = sum(w for w, _ in known.values())
    if not total:
        return None
    return round(sum(w * v for w, v in known.values()) / total)


def known_weight(criteria: Sequence[CriterionSpec], subscores: Mapping[str, float | None]) -> float:
    """The share of the criteria weight that rests on known facts (0-1)."""
    total = sum(c.weight for c in criteria)
    known = sum(c.weight for c in criteria if subscores.get(c.key) is not None)
    return round(known / total, 3) if total else 0.0


# A persona with no known criterion does not guess: it abstains, and the panel counts it in
# neither column (a score of 50 would read as a skip: unknown scored as bad).
ABSTAIN = "none"


def verdict_for(score: int | None, threshold: int) -> str:
    if score is None:
        return ABSTAIN
    return "ship" if score >= threshold else "skip"


def is_provisional(coverage: float | None) -> bool:
    return coverage is not None and coverage < PROVISIONAL_BELOW


def is_near_bar(score: int, threshold: int, low: int | None = None, high: int | None = None) -> bool:
    """Near the bar: within a few points of it, or with a range that straddles it."""
    if abs(score - threshold) <= NEAR_BAR_POINTS:
        return True
    return low is not None and high is not None and low < threshold <= high
