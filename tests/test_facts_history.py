"""Facts history: every change kept field by field, with who made it; a real change re-reviews."""

import copy
import json

import pytest
import yaml

from shiporskip.catalog.loading import load_catalog
from shiporskip.catalog.models import FactsChange, Tool
from shiporskip.cli import main
from shiporskip.panel.models import PanelRun
from shiporskip.panel.running import review_tool
from tests.conftest import tool_entry

CATEGORY = {"slug": "open-weight-models", "name": "Open-Weight Models"}


def load(entry, by="test"):
    return load_catalog({"categories": [CATEGORY], "tools": [entry]}, by=by)


@pytest.fixture
def reviewed_tool(personas):
    load(tool_entry("Histo"))
    tool = Tool.objects.select_related("category").get(slug="histo")
    review_tool(tool=tool, model="offline")
    return tool


@pytest.mark.django_db
def test_a_new_tool_starts_its_history(personas):
    load(tool_entry("Fresh"), by="catalog load fresh.yaml")
    change = FactsChange.objects.get(tool__slug="fresh")
    assert change.previous is None and change.by == "catalog load fresh.yaml"
    assert PanelRun.objects.count() == 0  # a new tool waits for `up` or `add`, not for history


@pytest.mark.django_db
def test_a_changed_fact_is_kept_field_by_field_and_re_reviews(
    reviewed_tool, django_capture_on_commit_callbacks
):
    entry = tool_entry(
        "Histo",
        facts={
            "context_window": 131072,
            "price": {
                "seat_monthly": 0,
                "free_tier": True,
                "source": "https://example.com/p",
                "as_of": "2026-01-01",
            },
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = load(entry, by="catalog load next.yaml")
    assert result.refacted == 1
    change = FactsChange.objects.filter(tool=reviewed_tool).first()
    fields = {c["field"]: (c["before"], c["after"]) for c in change.changes}
    assert fields["context_window"] == (32768, 131072)
    assert fields["price.seat_monthly"] == (None, 0)
    assert change.previous["context_window"] == 32768 and change.by == "catalog load next.yaml"
    runs = PanelRun.objects.filter(tool=reviewed_tool).order_by("pk")
    assert runs.count() == 2 and runs.last().status == "done"  # queued and run (inline in tests)
    reviewed_tool.refresh_from_db()
    assert reviewed_tool.current_run == runs.last()


@pytest.mark.django_db
def test_an_unchanged_reload_queues_nothing(reviewed_tool):
    before = FactsChange.objects.count()
    result = load(tool_entry("Histo"))
    assert result.unchanged == 1 and result.refacted == 0
    assert FactsChange.objects.count() == before
    assert PanelRun.objects.filter(tool=reviewed_tool).count() == 1


@pytest.mark.django_db
def test_re_dating_alone_is_kept_but_re_reviews_nothing(reviewed_tool):
    load(tool_entry("Histo", facts={"facts_as_of": "2026-02-01"}))
    change = FactsChange.objects.filter(tool=reviewed_tool).first()
    assert [c["field"] for c in change.changes] == ["facts_as_of"]
    assert PanelRun.objects.filter(tool=reviewed_tool).count() == 1


@pytest.mark.django_db
def test_the_admin_keeps_history_with_the_user(
    admin_client, reviewed_tool, django_capture_on_commit_callbacks
):
    facts = {**copy.deepcopy(reviewed_tool.facts), "context_window": 65536}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/catalog/tool/{reviewed_tool.pk}/change/",
            {
                "name": reviewed_tool.name,
                "slug": reviewed_tool.slug,
                "vendor": "Acme",
                "category": reviewed_tool.category_id,
                "facts": json.dumps(facts),
                "facts_changes-TOTAL_FORMS": 0,
                "facts_changes-INITIAL_FORMS": 0,
            },
        )
    assert response.status_code == 302
    change = FactsChange.objects.filter(tool=reviewed_tool).first()
    assert change.by.startswith("admin (") and change.changes[0]["field"] == "context_window"
    assert PanelRun.objects.filter(tool=reviewed_tool).count() == 2


@pytest.mark.django_db
def test_facts_history_api_and_cli_message(client, reviewed_tool, tmp_path, capsys):
    path = tmp_path / "next.yaml"
    path.write_text(
        yaml.safe_dump({"categories": [CATEGORY], "tools": [tool_entry("Histo", facts={"parameters": "8B"})]})
    )
    assert main(["catalog", "load", str(path)]) == 0
    assert "1 reviewed tool(s) with changed facts queued for a re-review" in capsys.readouterr().out
    history = client.get("/api/tools/histo/facts-history").json()
    assert history[0]["by"] == "catalog load next.yaml" and history[-1]["new_tool"] is True
    assert history[0]["changes"] == [{"field": "parameters", "before": "7B", "after": "8B"}]
    assert client.get("/api/tools/nope/facts-history").status_code == 404


@pytest.mark.django_db
def test_verdict_history_shows_what_the_re_review_changed(
    client, reviewed_tool, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        load(tool_entry("Histo", facts={"open_weights": False, "license_kind": "proprietary"}))
    data = client.get("/api/tools/histo/history").json()
    assert len(data["runs"]) == 2
    change = data["latest_change"]
    assert {c["field"] for c in change["facts"]} == {"open_weights", "license_kind"}
    runs = list(PanelRun.objects.filter(tool=reviewed_tool).order_by("pk"))
    old, new = ({r.persona.key: r.score for r in run.reviews.select_related("persona")} for run in runs)
    moved = {k: (old[k], new[k]) for k in new if old[k] != new[k]}
    assert moved  # closing the weights and the licence moves someone
    assert {s["persona"]: (s["before"], s["after"]) for s in change["scores"]} == moved
    page = client.get("/tools/histo").content.decode()
    assert "How the verdict moved" in page and "license_kind" in page
