"""Verdict history: every finished run of a tool, and what changed in the latest re-review.

Runs are never deleted, so the history is read off them: each run's reviews give the
persona scores and the panel verdict of its day; the facts each run saw give what changed.
"""

from django.db.models import Count, F, Prefetch, Q, Window
from django.db.models.functions import Lag

from shiporskip.catalog.history import diff
from shiporskip.catalog.tallies import PanelTally
from shiporskip.panel.models import PanelRun, Review

SHOWN_RUNS = 12


def verdict_history(tool, *, limit: int = SHOWN_RUNS) -> dict:
    """The tool's finished runs, newest first, with per-persona scores; and the latest change."""
    runs = list(tool.runs.filter(status=PanelRun.Status.DONE).order_by("-finished_at", "-pk")
                .prefetch_related(Prefetch("reviews", Review.objects.select_related("persona")))[:limit])
    rows = [run_row(run) for run in runs]
    personas = []
    for row in rows:
        personas += [k for k in row["scores"] if k not in personas]
    return {"runs": rows, "personas": personas,
            "latest_change": change_between(runs[1], runs[0]) if len(runs) > 1 else None}


def run_row(run: PanelRun) -> dict:
    reviews = list(run.reviews.all())
    tally = PanelTally(ship=sum(r.verdict == "ship" for r in reviews),
                       skip=sum(r.verdict == "skip" for r in reviews))
    return {"run": run.pk, "finished_at": run.finished_at, "model": run.model_label,
            "scores": {r.persona.key: r.score for r in reviews},
            "names": {r.persona.key: r.persona.name for r in reviews},
            "verdicts": {r.persona.key: r.verdict for r in reviews}, "panel": tally.label}


def change_between(before: PanelRun, after: PanelRun) -> dict:
    """What moved from one run to the next: the facts the panel saw, and each persona's score."""
    old, new = run_row(before), run_row(after)
    scores = [{"persona": key, "name": new["names"][key], "before": old["scores"].get(key),
               "after": score} for key, score in new["scores"].items()
              if old["scores"].get(key) != score]
    facts = diff(before.facts, after.facts) if before.facts and after.facts else []
    return {"from_run": before.pk, "to_run": after.pk, "facts": facts, "scores": scores,
            "panel": [old["panel"], new["panel"]], "facts_known": bool(before.facts and after.facts)}


def as_json(history: dict) -> dict:
    return {"runs": [{**row, "finished_at": row["finished_at"].isoformat()} for row in history["runs"]],
            "latest_change": history["latest_change"]}


# The feeds' bound: the newest verdict events, never the whole history.
EVENTS_SHOWN = 50


def verdict_events(*, category=None, limit: int = EVENTS_SHOWN) -> list[PanelRun]:
    """The newest verdict events, newest first: each finished run whose panel tally differs from
    the tool's previous finished run (or that is its first). Re-reviews that leave the tally as
    it was are not news, so they are left out.

    Three queries whatever the history's length: the runs with their tallies and the previous
    run's (window functions over each tool's runs, so the database does the comparing), their
    reviews, and the previous runs' scores. Each run carries `ship`, `skip`, `prev_ship`,
    `prev_skip` (None for a first verdict) and `previous_scores` ({persona key: score}).
    """
    ship = Count("reviews", filter=Q(reviews__verdict="ship"))
    skip = Count("reviews", filter=Q(reviews__verdict="skip"))
    over_tool = {"partition_by": [F("tool_id")], "order_by": [F("finished_at").asc(), F("pk").asc()]}
    runs = PanelRun.objects.filter(status=PanelRun.Status.DONE)
    if category is not None:
        runs = runs.filter(tool__category=category)
    # One number per tally (ship count * 1000 + skip count: a panel has far fewer than 1000
    # reviewers), so "changed" is one comparison; a first run's previous tally is -1.
    runs = (runs.annotate(ship=ship, skip=skip, tally=ship * 1000 + skip)
            .annotate(prev_tally=Window(Lag("tally", default=-1), **over_tool),
                      prev_run=Window(Lag("pk"), **over_tool))
            .exclude(prev_tally=F("tally"))
            .select_related("tool__category")
            # Every selected column is grouped by: leave out the long ones no event needs.
            .defer("facts", "progress", "error", "tool__facts", "tool__description")
            .prefetch_related(Prefetch("reviews", Review.objects.select_related("persona")))
            .order_by("-finished_at", "-pk")[:limit])
    runs = list(runs)
    previous = {}
    for row in (Review.objects.filter(run_id__in=[r.prev_run for r in runs if r.prev_run])
                .values("run_id", "persona__key", "verdict", "score")):
        previous.setdefault(row["run_id"], []).append(row)
    for run in runs:
        rows = previous.get(run.prev_run)
        run.previous_scores = {r["persona__key"]: r["score"] for r in rows or []}
        run.prev_ship = sum(r["verdict"] == "ship" for r in rows) if rows is not None else None
        run.prev_skip = sum(r["verdict"] == "skip" for r in rows) if rows is not None else None
    return runs
