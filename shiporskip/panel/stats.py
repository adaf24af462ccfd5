"""Panel health: does the panel judge tools on their evidence, with personas that differ?

Measured over the current reviews of the whole catalog: how personas correlate, how often
each ships, which tools get identical scores, how much of the panel's verdicts one fact
predicts, how many verdicts sit near a bar, and how varied the written sentences are.
"""

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import combinations

from shiporskip.catalog.models import Tool
from shiporskip.catalog.tallies import PanelTally
from shiporskip.panel.models import Review

# The facts a single-fact predictor may use: every categorical field of the record.
PREDICTORS = [
    "kind",
    "license_kind",
    "pricing_model",
    "open_weights",
    "open_source",
    "self_hostable",
    "api_available",
    "release_year",
]


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return round(statistics.correlation(xs, ys), 3)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text) if len(s.strip()) > 3]


def best_single_fact(tools: list[Tool], verdicts: dict[int, str | None]) -> tuple[str, float]:
    """The fact whose values best predict the panel verdict, and the share it predicts."""
    best = ("", 0.0)
    for name in PREDICTORS:
        by_value: dict[object, Counter] = defaultdict(Counter)
        for tool in tools:
            by_value[tool.facts.get(name)][verdicts[tool.pk]] += 1
        hits = sum(counts.most_common(1)[0][1] for counts in by_value.values())
        share = hits / len(tools) if tools else 0.0
        if share > best[1]:
            best = (name, round(share, 3))
    return best


def panel_stats() -> dict:
    """Every health figure over the catalog's current reviews."""
    reviews = list(Review.objects.current().select_related("persona", "tool__category"))
    personas = sorted({r.persona for r in reviews}, key=lambda p: (p.order, p.key))
    by_tool: dict[int, dict[str, Review]] = defaultdict(dict)
    for r in reviews:
        by_tool[r.tool_id][r.persona.key] = r
    tools = [t for t in Tool.objects.select_related("category") if t.pk in by_tool]
    full = [
        t
        for t in tools
        if len(by_tool[t.pk]) == len(personas) and all(r.score is not None for r in by_tool[t.pk].values())
    ]
    keys = [p.key for p in personas]
    # Every tool in `full` has a score from every persona; the walrus says so to the type checker.
    scores = {k: [s for t in full if (s := by_tool[t.pk][k].score) is not None] for k in keys}
    verdicts = {
        t.pk: PanelTally(
            ship=sum(r.verdict == "ship" for r in by_tool[t.pk].values()),
            skip=sum(r.verdict == "skip" for r in by_tool[t.pk].values()),
        ).verdict
        for t in tools
    }
    return {
        "tools": len(tools),
        "reviews": len(reviews),
        "personas": keys,
        "correlation": {f"{a}~{b}": pearson(scores[a], scores[b]) for a, b in combinations(keys, 2)},
        "ship_share": {k: share([r for r in reviews if r.persona.key == k]) for k in keys},
        "ship_share_by_category": by_category(reviews, keys),
        "panel_verdicts": dict(Counter(verdicts.values())),
        "tied_groups": tied_groups(full, by_tool, keys),
        "single_fact": dict(zip(["fact", "share"], best_single_fact(tools, verdicts), strict=True)),
        "near_bar": sum(r.near_bar for r in reviews),
        "provisional": sum(r.provisional for r in reviews),
        "mean_coverage": round(
            statistics.fmean([r.coverage for r in reviews if r.coverage is not None] or [0]), 3
        ),
        "distinct_values": len({r.score for r in reviews if r.score is not None}),
        "abstentions": sum(r.score is None for r in reviews),
        **sentence_stats(reviews),
    }


def share(reviews: list[Review]) -> float | None:
    return round(sum(r.verdict == "ship" for r in reviews) / len(reviews), 3) if reviews else None


def by_category(reviews: list[Review], keys: list[str]) -> dict:
    groups: dict[str, list[Review]] = defaultdict(list)
    for r in reviews:
        groups[r.tool.category.slug].append(r)
    return {
        cat: {k: share([r for r in rs if r.persona.key == k]) for k in keys}
        for cat, rs in sorted(groups.items())
    }


def tied_groups(tools, by_tool, keys) -> list[list[str]]:
    groups: dict[tuple, list[str]] = defaultdict(list)
    for t in tools:
        groups[tuple(by_tool[t.pk][k].score for k in keys)].append(t.slug)
    return [sorted(slugs) for slugs in groups.values() if len(slugs) > 1]


def sentence_stats(reviews: list[Review]) -> dict:
    """The share of distinct sentences, and the most tools any one sentence appears in."""
    tools_of: dict[str, set[int]] = defaultdict(set)
    total = 0
    for r in reviews:
        for text in r.sections.values():
            for s in sentences(text):
                tools_of[s].add(r.tool_id)
                total += 1
    worst = max(tools_of.items(), key=lambda kv: len(kv[1]), default=("", set()))
    return {
        "sentences": total,
        "distinct_sentences": round(len(tools_of) / total, 3) if total else None,
        "most_repeated_sentence_tools": len(worst[1]),
        "most_repeated_sentence": worst[0],
    }
