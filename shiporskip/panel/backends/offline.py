"""The offline reviewer: deterministic reviews from a tool's evidence, no model needed.

Each criterion is judged against the tool's market and nearest rivals (offline_scores);
unknown evidence is left out and named; the score is the verdict rule's weighted mean; its
range comes from resampling the weights and the unknowns. Sections are written from computed
comparisons (offline_text) in each persona's structure, so every claim can be traced.
"""

import hashlib
import json
import random
from dataclasses import dataclass

from shiporskip.panel import verdict as rule
from shiporskip.panel.backends import offline_scores as scores
from shiporskip.panel.backends import offline_text as say
from shiporskip.panel.backends.base import (
    Reviewer,
    ReviewReply,
    ReviewRequest,
    ReviewResult,
    ToolSnapshot,
)
from shiporskip.panel.backends.offline_writers import WRITERS, write_custom
from shiporskip.panel.specs import CriterionSpec, PersonaSpec

# Bump when the scoring or writing changes, so stored reviews say which rules made them.
RULES_VERSION = "offline-2.7"
DRAWS = 300


@dataclass(frozen=True)
class Draft:
    tool: ToolSnapshot
    persona: PersonaSpec
    subscores: dict[str, int | None]
    score: int | None  # None: it abstains, nothing it weighs is known
    verdict: str
    low: int | None
    high: int | None

    @property
    def bar(self) -> int:
        return self.persona.ship_threshold

    @property
    def margin(self) -> int:
        return (self.score or 0) - self.bar

    def known(self) -> list[CriterionSpec]:
        """The persona's known criteria, strongest first (ties keep the persona's order)."""
        found = [c for c in self.persona.criteria if self.subscores[c.key] is not None]
        return sorted(found, key=lambda c: -(self.subscores[c.key] or 0))

    def unknown(self) -> list[CriterionSpec]:
        return [c for c in self.persona.criteria if self.subscores[c.key] is None]

    def decisive(self) -> CriterionSpec | None:
        """The criterion that pulls hardest toward the verdict: weight times distance to the bar."""
        known = self.known()
        if not known:
            return None
        pull = {c.key: c.weight * ((self.subscores[c.key] or 0) - self.bar) for c in known}
        pick = max if self.verdict == "ship" else min
        return pick(known, key=lambda c: pull[c.key])


def doubt(
    criteria: list[CriterionSpec], subscores: dict[str, int | None], seed: str
) -> tuple[int | None, int | None]:
    """The 10th-90th percentile of the score with weights and unknown sub-scores resampled."""
    rng = random.Random(hashlib.sha256(seed.encode()).hexdigest())  # deterministic per review
    draws: list[int | None] = []
    for _ in range(DRAWS):
        drawn = {c.key: (v if (v := subscores[c.key]) is not None else rng.uniform(20, 80)) for c in criteria}
        weights = {c.key: c.weight * rng.uniform(0.6, 1.4) for c in criteria}
        draws.append(rule.weighted_mean(weights, drawn))
    found = sorted(d for d in draws if d is not None)  # a persona whose weights are all zero has none
    if not found:
        return None, None
    return found[DRAWS // 10 * len(found) // DRAWS], found[(DRAWS * 9 // 10) * len(found) // DRAWS]


def draft(persona: PersonaSpec, tool: ToolSnapshot) -> Draft:
    subscores = {c.key: scores.score_criterion(c.key, tool) for c in persona.criteria}
    score = rule.weighted_score(persona.criteria, subscores)
    verdict = rule.verdict_for(score, persona.ship_threshold)
    if score is None:  # nothing this persona weighs is known: it abstains rather than guess
        return Draft(tool, persona, subscores, None, verdict, None, None)
    seed = json.dumps([tool.name, persona.key, subscores], sort_keys=True)
    low, high = doubt(persona.criteria, subscores, seed)
    low, high = min(low if low is not None else score, score), max(high if high is not None else score, score)
    return Draft(tool, persona, subscores, score, verdict, low, high)


class OfflineReviewer(Reviewer):
    provider = "offline"
    max_concurrency = 4
    rules_version = RULES_VERSION

    @property
    def name(self) -> str:
        return "offline"

    def review(self, request: ReviewRequest) -> ReviewResult:
        d = draft(request.persona, request.tool)
        sections = {s.key: (WRITERS.get(s.key) or write_custom(s))(d) for s in request.persona.sections}
        criteria = {k: v for k, v in d.subscores.items() if v is not None}
        reply = ReviewReply(score=d.score, verdict=d.verdict, criteria=criteria, sections=sections)
        return ReviewResult(
            reply=reply,
            model="offline",
            raw=json.dumps(reply.model_dump()),
            score_range=None if d.low is None or d.high is None else (d.low, d.high),
            unknown=tuple(c.key for c in d.unknown()),
        )


__all__ = ["OfflineReviewer", "Draft", "draft", "say"]
