"""The bundled catalog with the offline panel meets the panel-health targets (`panel stats`)."""

import json

import pytest

from shiporskip.cli import main
from shiporskip.panel.stats import panel_stats


@pytest.mark.django_db
def test_the_bundled_panel_is_healthy(reviewed):
    stats = panel_stats()
    assert stats["tools"] >= 50 and stats["reviews"] == 4 * stats["tools"]
    assert stats["single_fact"]["share"] <= 0.85, stats["single_fact"]
    assert all(r is not None and r <= 0.8 for r in stats["correlation"].values()), stats["correlation"]
    assert len(stats["tied_groups"]) <= 1, stats["tied_groups"]
    assert stats["distinct_sentences"] >= 0.9
    assert stats["most_repeated_sentence_tools"] <= 5, stats["most_repeated_sentence"]
    # Personas that differ: no persona ships everything or nothing.
    assert all(0.1 <= share <= 0.9 for share in stats["ship_share"].values()), stats["ship_share"]


@pytest.mark.django_db
def test_panel_stats_cli(reviewed, capsys):
    assert main(["panel", "stats", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["correlation"]) == {
        "builder~skeptic",
        "builder~futurist",
        "builder~founder",
        "skeptic~futurist",
        "skeptic~founder",
        "futurist~founder",
    }
    assert main(["panel", "stats"]) == 0
    out = capsys.readouterr().out
    assert "persona correlation" in out and "one fact predicts" in out


@pytest.mark.django_db
def test_panel_stats_before_any_review(catalog, capsys):
    assert main(["panel", "stats"]) == 2
    assert "no reviews yet" in capsys.readouterr().err
