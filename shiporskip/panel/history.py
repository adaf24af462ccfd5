"""Verdict history: every finished run of a tool, and what changed in the latest re-review.

Runs are never deleted, so the history is read off them: each run's reviews give the
persona scores and the panel verdict of its day; the facts each run saw give what changed.
"""

from django.db.models import Prefetch

from shiporskip.catalog.history import diff
from shiporskip.panel.models import PanelRun, Review
from shiporskip.panel.tally import PanelTally

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
