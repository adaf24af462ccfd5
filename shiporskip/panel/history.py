"""Verdict history: every finished run of a tool, and what changed in the latest re-review.

Runs are never deleted, so the history is read off them: each run's reviews give the
persona scores and the panel verdict of its day; the facts each run saw give what changed.
"""

from typing import Any, NamedTuple

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from shiporskip.catalog.history import diff
from shiporskip.catalog.models import Tool
from shiporskip.catalog.tallies import PanelTally
from shiporskip.panel.models import PanelRun, Review

SHOWN_RUNS = 12


def verdict_history(tool, *, limit: int = SHOWN_RUNS) -> dict:
    """The tool's finished runs, newest first, with per-persona scores; and the latest change."""
    runs = list(
        tool.runs.filter(status=PanelRun.Status.DONE)
        .order_by("-finished_at", "-pk")
        .prefetch_related(Prefetch("reviews", Review.objects.select_related("persona")))[:limit]
    )
    rows = [run_row(run) for run in runs]
    personas = []
    for row in rows:
        personas += [k for k in row["scores"] if k not in personas]
    return {
        "runs": rows,
        "personas": personas,
        "latest_change": change_between(runs[1], runs[0]) if len(runs) > 1 else None,
        "run_models": runs,  # with their reviews read: see reviews_in
    }


def reviews_in(history: dict, run_id: int) -> list[Review] | None:
    """A run's reviews as the history read them (persona joined, in the panel's order), or None
    if the run is not among its runs: a tool page shows the current run's, already read here."""
    for run in history["run_models"]:
        if run.pk == run_id:
            return list(run.reviews.all())
    return None


def run_row(run: PanelRun) -> dict:
    reviews = list(run.reviews.all())
    tally = PanelTally(
        ship=sum(r.verdict == "ship" for r in reviews), skip=sum(r.verdict == "skip" for r in reviews)
    )
    return {
        "run": run.pk,
        "finished_at": run.finished_at,
        "model": run.model_label,
        "scores": {r.persona.key: r.score for r in reviews},
        "names": {r.persona.key: r.persona.name for r in reviews},
        "verdicts": {r.persona.key: r.verdict for r in reviews},
        "panel": tally.label,
    }


def change_between(before: PanelRun, after: PanelRun) -> dict:
    """What moved from one run to the next: the facts the panel saw, and each persona's score."""
    old, new = run_row(before), run_row(after)
    scores = [
        {"persona": key, "name": new["names"][key], "before": old["scores"].get(key), "after": score}
        for key, score in new["scores"].items()
        if old["scores"].get(key) != score
    ]
    facts = diff(before.facts, after.facts) if before.facts and after.facts else []
    return {
        "from_run": before.pk,
        "to_run": after.pk,
        "facts": facts,
        "scores": scores,
        "panel": [old["panel"], new["panel"]],
        "facts_known": bool(before.facts and after.facts),
    }


def as_json(history: dict) -> dict:
    return {
        "runs": [{**row, "finished_at": row["finished_at"].isoformat()} for row in history["runs"]],
        "latest_change": history["latest_change"],
    }


# The feeds' bound: the newest verdict events, never the whole history.
EVENTS_SHOWN = 50


class EventReview(NamedTuple):
    """One persona's review in a verdict event, as a feed entry names it."""

    key: str
    name: str
    score: int | None
    verdict: str


def verdict_events(*, category=None, limit: int = EVENTS_SHOWN) -> list[PanelRun]:
    """The newest verdict events, newest first: each finished run whose panel tally differs from
    the tool's previous finished run (or that is its first). Re-reviews that leave the tally as
    it was are not news, so they are left out.

    Which runs are events is stored when each run finishes (`record_event`), so this reads the
    newest `limit` off an index, however long the history: three queries (the runs, their
    reviews, the previous runs' scores). Each run carries `ship`, `skip`, `prev_ship`,
    `prev_skip` (None for a first verdict), `panel` (its reviews, as `EventReview` rows) and
    `previous_scores` ({persona key: score}).
    """
    found = PanelRun.objects.filter(status=PanelRun.Status.DONE, verdict_event=True)
    if category is not None:
        # A correlated EXISTS, not a join: the database walks the events index newest first
        # and stops at `limit`, instead of gathering every run of the category's tools to sort.
        found = found.filter(Exists(Tool.objects.filter(pk=OuterRef("tool_id"), category=category)))
    # Any: each run gains the attributes the feeds read (ship, skip, panel, previous_scores).
    runs: list[Any] = list(
        found.select_related("tool__category")
        .defer("facts", "progress", "error", "tool__facts", "tool__description", "tool__rival_features")
        .order_by("-finished_at", "-pk")[:limit]
    )
    # An entry names each persona's score and verdict: plain rows, not Review models (their
    # long texts stay unread, and a prefetch of 200 models cost more than the feed's XML).
    panel: dict[int, list[EventReview]] = {}
    for run_id, key, name, score, verdict in Review.objects.filter(
        run_id__in=[r.pk for r in runs]
    ).values_list("run_id", "persona__key", "persona__name", "score", "verdict"):
        panel.setdefault(run_id, []).append(EventReview(key, name, score, verdict))
    previous: dict[int, dict] = {}
    for before in Review.objects.filter(run_id__in=[r.previous_id for r in runs if r.previous_id]).values(
        "run_id", "persona__key", "score"
    ):
        previous.setdefault(before["run_id"], {})[before["persona__key"]] = before["score"]
    for run in runs:
        run.panel = panel.get(run.pk, [])
        verdicts = [r.verdict for r in run.panel]
        run.ship, run.skip = verdicts.count("ship"), verdicts.count("skip")
        run.previous_scores = previous.get(run.previous_id, {}) if run.previous_id else {}
    return runs


def tally_of(run_id: int) -> tuple[int, int]:
    """A run's panel tally: (ship, skip)."""
    counts = Review.objects.filter(run_id=run_id).aggregate(
        ship=Count("pk", filter=Q(verdict="ship")), skip=Count("pk", filter=Q(verdict="skip"))
    )
    return counts["ship"], counts["skip"]


def record_event(run_id: int) -> None:
    """Store whether a just-finished run is a verdict event, and the tally it moved from.

    Called in the transaction that stores the run's reviews (panel/running.py), so a reader
    never sees a finished run without it. The run before is the tool's latest finished run
    ordered as the history is (finish time, then id).
    """
    run = PanelRun.objects.only("pk", "tool_id", "finished_at").get(pk=run_id)
    before = (
        PanelRun.objects.filter(tool_id=run.tool_id, status=PanelRun.Status.DONE)
        .filter(Q(finished_at__lt=run.finished_at) | Q(finished_at=run.finished_at, pk__lt=run.pk))
        .order_by("-finished_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    prev = tally_of(before) if before is not None else (None, None)
    PanelRun.objects.filter(pk=run.pk).update(
        verdict_event=before is None or prev != tally_of(run.pk),
        previous_id=before,
        prev_ship=prev[0],
        prev_skip=prev[1],
    )
