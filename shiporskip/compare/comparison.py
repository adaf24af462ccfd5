"""Two tools side by side, composed from stored rows only: a comparison costs no LLM call."""

import re
from dataclasses import dataclass
from typing import overload

from django.urls import reverse

from shiporskip.catalog.evidence_view import CompareRow, compare_rows
from shiporskip.catalog.models import Tool
from shiporskip.panel.models import Persona, Review
from shiporskip.panel.tally import PanelDoubt, panel_doubt

SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def canonical_pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def compare_url(a: str, b: str) -> str:
    first, second = canonical_pair(a, b)
    return reverse("compare:pair", args=[f"{first}-vs-{second}"])


def split_pair(pair: str, known: set[str]) -> tuple[str, str] | None:
    """Split `a-vs-b` where either slug may itself contain `-vs-`; prefer known slugs."""
    parts = pair.split("-vs-")
    candidates = [("-vs-".join(parts[:i]), "-vs-".join(parts[i:])) for i in range(1, len(parts))]
    for a, b in candidates:
        if a in known and b in known:
            return a, b
    return candidates[0] if candidates else None


def parse_pair(pair: str) -> tuple[str, str] | None:
    """The two known slugs an `a-vs-b` address names, or None (one query, junk refused first)."""
    pieces = pair.split("-vs-")
    if not 1 < len(pieces) <= 5 or not SLUG.fullmatch(pair):
        return None
    halves = {"-vs-".join(part) for i in range(1, len(pieces)) for part in (pieces[:i], pieces[i:])}
    known = set(Tool.objects.filter(slug__in=halves).values_list("slug", flat=True))
    slugs = split_pair(pair, known)
    return slugs if slugs and slugs[0] != slugs[1] and set(slugs) <= known else None


@dataclass
class Row:
    persona: Persona
    left: Review | None
    right: Review | None


@dataclass
class Comparison:
    left: Tool
    right: Tool
    rows: list[Row]

    @property
    def pair(self) -> tuple[Tool, Tool]:
        return self.left, self.right

    @property
    def doubts(self) -> tuple[PanelDoubt, PanelDoubt]:
        return (
            panel_doubt([r.left for r in self.rows if r.left]),
            panel_doubt([r.right for r in self.rows if r.right]),
        )

    @property
    def evidence(self) -> list[CompareRow]:
        return compare_rows(self.left.parsed_facts, self.right.parsed_facts)

    @property
    def title(self) -> str:
        return f"{self.left.name} vs {self.right.name}"

    @property
    def url(self) -> str:
        return compare_url(self.left.slug, self.right.slug)

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "tools": [tool_dict(self.left), tool_dict(self.right)],
            "evidence": [
                {"label": r.label, "values": [r.left, r.right], "better": r.better} for r in self.evidence
            ],
            "scorecard": [
                {
                    "persona": row.persona.key,
                    "name": row.persona.name,
                    "reviews": [review_dict(row.left), review_dict(row.right)],
                }
                for row in self.rows
            ],
        }


def tool_dict(tool: Tool) -> dict:
    return {
        "slug": tool.slug,
        "name": tool.name,
        "vendor": tool.vendor,
        "category": tool.category.name,
        "best_for": tool.best_for,
        "description": tool.description,
        "pricing": tool.pricing,
        "entry_price": tool.entry_price,
        "license": tool.license,
        "panel": tool.panel.as_dict(),
        "community": tool.community.as_dict(),
        "disagreement": tool.disagreement,
        "facts": tool.facts,
    }


@overload
def review_dict(review: Review) -> dict: ...
@overload
def review_dict(review: None) -> None: ...
def review_dict(review: Review | None) -> dict | None:
    if review is None:
        return None
    return {
        "score": review.score,
        "verdict": review.verdict,
        "bar": review.bar,
        "margin": review.margin,
        "range": [review.score_low, review.score_high],
        "near_bar": review.near_bar,
        "provisional": review.provisional,
        "coverage": review.coverage,
        "unknown": review.unknown,
        "criteria": review.criteria,
        "self_review": review.self_review,
        "samples": review.samples,
        "summary": review.summary,
        "sections": review.section_list(),
        "model": review.model_label,
        "prompt_version": review.prompt_version,
    }


def build(first: Tool, second: Tool) -> Comparison:
    """Pair up both tools' current reviews per persona, in the panel's order (2 queries)."""
    run_ids = [t.current_run_id for t in (first, second) if t.current_run_id]
    reviews = Review.objects.filter(run_id__in=run_ids).select_related("persona")
    by_key = {(r.tool_id, r.persona_id): r for r in reviews}
    personas = {r.persona_id: r.persona for r in reviews}
    ordered = sorted(personas.values(), key=lambda p: (p.order, p.key))
    rows = [Row(p, by_key.get((first.pk, p.pk)), by_key.get((second.pk, p.pk))) for p in ordered]
    return Comparison(first, second, rows)


def load(a: str, b: str) -> Comparison | None:
    """Build the comparison of slugs a and b in canonical order, or None if either is unknown."""
    first, second = canonical_pair(a, b)
    tools = {t.slug: t for t in Tool.objects.with_tallies().filter(slug__in=[first, second])}
    if first == second or len(tools) != 2:
        return None
    return build(tools[first], tools[second])
