"""What pages read instead of recomputing: each tool's rival features and each run's verdict event.

Rivals are ranked from `Tool.rival_features` (kept by Tool.save()) and the feeds list runs
marked `verdict_event` when they finished; both must give exactly what the long way gives:
every facts record parsed, every run compared with the one before.
"""

import importlib

from django.apps import apps
from django.utils import timezone

from shiporskip.catalog.list_views import ALTERNATIVES
from shiporskip.catalog.loading import load_catalog
from shiporskip.catalog.models import Tool
from shiporskip.catalog.rivals import distance
from shiporskip.panel.history import record_event, verdict_events
from shiporskip.panel.models import PanelRun, Persona, Review
from shiporskip.panel.running import review_tool
from tests.conftest import tool_entry


def rivals_the_long_way(tool: Tool, n: int) -> list[str]:
    """Every same-category tool's facts parsed and ranked: the rule of catalog/rivals.py."""
    mine = tool.parsed_facts
    others = Tool.objects.filter(category_id=tool.category_id).exclude(pk=tool.pk)
    ranked = sorted(others, key=lambda t: (distance(mine, t.parsed_facts), t.name))
    return [t.slug for t in ranked[:n]]


def test_stored_features_rank_every_bundled_tool_as_its_parsed_facts_do(catalog):
    tools = list(Tool.objects.all())
    assert all(t.rival_features is not None for t in tools)
    for tool in tools:
        assert [t.slug for t in tool.rivals(ALTERNATIVES)] == rivals_the_long_way(tool, ALTERNATIVES)


def test_a_facts_edit_moves_the_stored_features_and_the_rivals(catalog):
    tool = Tool.objects.get(slug="code-llama-4")
    before = tool.rival_features
    tool.facts = {**tool.facts, "kind": "app", "price": None, "parameters": "400B"}
    tool.save(update_fields=["facts"])  # a partial save of the facts keeps the features too
    tool.refresh_from_db()
    assert tool.rival_features != before and tool.rival_features[0] == "app"
    for other in Tool.objects.filter(category_id=tool.category_id):
        assert [t.slug for t in other.rivals(4)] == rivals_the_long_way(other, 4)


def test_a_tool_written_without_features_is_ranked_from_its_facts(catalog):
    Tool.objects.filter(slug="code-llama-4").update(rival_features=None)  # a bulk write that left it out
    for tool in Tool.objects.filter(category__slug="open-weight-models"):
        assert [t.slug for t in tool.rivals(ALTERNATIVES)] == rivals_the_long_way(tool, ALTERNATIVES)


def flip(tool, verdict: str) -> PanelRun:
    """A finished run whose every persona says `verdict`, stored as running._store does."""
    now = timezone.now()
    run = PanelRun.objects.create(tool=tool, model="offline", status="done", started_at=now, finished_at=now)
    Review.objects.bulk_create(
        Review(
            run=run,
            tool=tool,
            persona=p,
            verdict=verdict,
            score=80,
            threshold=60,
            model="offline",
            prompt_version="t",
            persona_version=p.version,
        )
        for p in Persona.objects.active()
    )
    record_event(run.pk)
    return run


def test_events_stored_at_finish_match_the_backfill_over_the_history(personas):
    load_catalog(
        {
            "categories": [{"slug": "open-weight-models", "name": "Open-Weight Models"}],
            "tools": [tool_entry("Alpha"), tool_entry("Beta")],
        }
    )
    alpha, beta = Tool.objects.order_by("name")
    first = review_tool(tool=alpha, model="offline")  # the real panel: a first verdict
    same = review_tool(tool=alpha, model="offline", force=True)  # same tally: no news
    runs = [flip(beta, "ship"), flip(beta, "ship"), flip(beta, "skip"), flip(alpha, "skip")]
    stored = {
        r.pk: (r.verdict_event, r.previous_id, r.prev_ship, r.prev_skip) for r in PanelRun.objects.all()
    }
    assert stored[first.pk][0] and stored[first.pk][1:] == (None, None, None)
    assert not stored[same.pk][0] and stored[same.pk][1] == first.pk
    assert [stored[r.pk][0] for r in runs] == [True, False, True, True]
    panel = Persona.objects.active().count()
    assert stored[runs[2].pk][1:] == (runs[1].pk, panel, 0)  # it moved from all ship
    events = verdict_events()
    assert [e.pk for e in events] == [runs[3].pk, runs[2].pk, runs[0].pk, first.pk]
    assert events[0].prev_ship is not None and events[0].ship == 0 and events[0].skip > 0

    # The migration's backfill, run over the same history, stores the same thing.
    PanelRun.objects.update(verdict_event=False, previous=None, prev_ship=None, prev_skip=None)
    importlib.import_module("shiporskip.panel.migrations.0006_verdict_events").backfill(apps, None)
    assert {
        r.pk: (r.verdict_event, r.previous_id, r.prev_ship, r.prev_skip) for r in PanelRun.objects.all()
    } == stored
