import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shiporskip.catalog.models import Tool
from shiporskip.cli import COMMANDS, main
from shiporskip.panel.models import PanelRun
from tests.conftest import panel_label, tool_entry

SCRIPT = str(Path(sys.executable).parent / "shiporskip")


def run_script(*args, **env):
    return subprocess.run(
        [SCRIPT, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )


def test_help_documents_every_command():
    result = run_script("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout
    for command in COMMANDS:
        assert run_script(command, "--help").returncode == 0


@pytest.mark.parametrize(
    "args", [["frobnicate"], ["up", "--port", "nope"], ["up", "--port", "70000"], ["compare", "only-one"]]
)
def test_bad_arguments_give_one_line_and_status_2(args):
    result = run_script(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("shiporskip") and ": error: " in result.stderr


@pytest.mark.parametrize("value", ["0", "11", "three", "-1"])
def test_review_refuses_a_bad_sample_count_in_one_line(capsys, value):
    with pytest.raises(SystemExit) as exited:
        main(["review", "x", "--samples", value])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and len(err.strip().splitlines()) == 1
    assert f"argument --samples: {value!r} is not a whole number from 1 to 10" in err


def test_a_bad_setting_is_named_before_anything_runs():
    result = run_script("compare", "a", "b", SHIPORSKIP_DEBUG="maybe")
    assert result.returncode == 2
    assert "SHIPORSKIP_DEBUG='maybe' is not a boolean" in result.stderr


def test_add_with_a_bad_file_adds_nothing(catalog, tmp_path, capsys):
    before = Tool.objects.count()
    path = tmp_path / "tools.yaml"
    path.write_text(
        yaml.safe_dump([tool_entry("Fine One"), tool_entry("Broken One", facts={"facts_as_of": "soon"})])
    )
    assert main(["add", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "tools[1] (Broken One): facts.facts_as_of" in err
    assert Tool.objects.count() == before


@pytest.mark.parametrize(("name", "text"), [("bad.yaml", "tools: [unclosed"), ("bad.json", "{not json")])
def test_add_with_an_unparsable_file_says_so(personas, tmp_path, capsys, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert main(["add", "--file", str(path)]) == 2
    assert "is not valid" in capsys.readouterr().err
    assert not Tool.objects.exists()


def test_add_with_a_missing_file(personas, capsys):
    assert main(["add", "--file", "/nonexistent/tools.yaml"]) == 2
    assert "cannot read /nonexistent/tools.yaml" in capsys.readouterr().err


def test_add_from_a_json_file_and_queue_its_review(catalog, tmp_path, capsys):
    path = tmp_path / "tool.json"
    path.write_text(json.dumps(tool_entry("Json Tool")))
    assert main(["add", "--file", str(path)]) == 0
    tool = Tool.objects.get(slug="json-tool")
    assert PanelRun.objects.get(tool=tool).status == "queued"
    assert "panel run queued" in capsys.readouterr().out


def test_add_from_flags_and_review_at_once(catalog, capsys):
    code = main(
        [
            "add",
            "--name",
            "Flag Tool",
            "--category",
            "local-inference",
            "--kind",
            "app",
            "--source",
            "https://example.com/flag",
            "--fact",
            "open_source=true",
            "--fact",
            "runtimes=[Linux, macOS]",
            "--review",
        ]
    )
    assert code == 0, capsys.readouterr().err
    tool = Tool.objects.with_panel().get(slug="flag-tool")
    assert tool.facts["runtimes"] == ["Linux", "macOS"] and tool.facts["open_source"] is True
    reviews = tool.current_run.reviews.all()
    assert reviews.count() == 4  # one per persona; one that knows nothing it weighs abstains
    assert tool.ship_count + tool.skip_count == reviews.exclude(verdict="none").count()


def test_add_from_flags_needs_the_essentials(catalog, capsys):
    assert main(["add", "--name", "Half"]) == 2
    assert "--category, --kind, --source" in capsys.readouterr().err


def test_add_refuses_a_bad_fact_value(catalog, capsys):
    code = main(
        [
            "add",
            "--name",
            "Odd",
            "--category",
            "llm-apis",
            "--kind",
            "api",
            "--source",
            "https://example.com",
            "--fact",
            "context_window=lots",
        ]
    )
    assert code == 2 and "facts.context_window" in capsys.readouterr().err
    assert not Tool.objects.filter(slug="odd").exists()


def test_compare_unknown_slug(catalog, capsys):
    assert main(["compare", "code-llama-4", "no-such-tool"]) == 2
    assert "no tool with slug 'no-such-tool'" in capsys.readouterr().err


def test_compare_prints_a_side_by_side_table(seed_pair, capsys):
    assert main(["compare", "mistral-3-small-22b", "code-llama-4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Code Llama 4 vs Mistral 3 Small (22B)")
    assert panel_label("code-llama-4") in out and panel_label("mistral-3-small-22b") in out
    builder = next(line for line in out.splitlines() if line.startswith("Builder"))
    assert builder.count("/100 · ") == 2


def test_compare_json(seed_pair, capsys):
    assert main(["compare", "code-llama-4", "mistral-3-small-22b", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [t["slug"] for t in data["tools"]] == ["code-llama-4", "mistral-3-small-22b"]
    assert data["tools"][0]["panel"]["label"] == panel_label("code-llama-4")
    bars = [r["bar"] for row in data["scorecard"] for r in row["reviews"]]
    assert len(bars) == 8 and all(isinstance(b, int) for b in bars)
    assert [row["persona"] for row in data["scorecard"]] == ["builder", "skeptic", "futurist", "founder"]


def test_review_all_shows_progress(catalog, capsys):
    assert main(["review", "--all"]) == 0
    captured = capsys.readouterr()
    total = Tool.objects.count()
    assert f"review: {total} tool(s) reviewed by offline, 0 failed" in captured.out
    assert f"{total * 4}/{total * 4}" in captured.err  # the progress bar's last state
    assert Tool.objects.reviewed().count() == total


def test_review_needs_slugs_or_all(catalog, capsys):
    assert main(["review"]) == 2
    assert main(["review", "nope"]) == 2
    assert "no tool with slug 'nope'" in capsys.readouterr().err
    assert main(["review", "code-llama-4", "--model", "bogus/x"]) == 2


def test_catalog_load_is_idempotent(personas, capsys):
    assert main(["catalog", "load"]) == 0
    first = capsys.readouterr().out
    assert main(["catalog", "load"]) == 0
    assert "0 added, 0 updated" in capsys.readouterr().out and "0 updated" in first


def test_review_reports_a_run_in_progress_without_a_traceback(seed_pair, capsys):
    PanelRun.objects.create(tool=seed_pair[0], model="offline", status="running")
    assert main(["review", "code-llama-4"]) == 1
    captured = capsys.readouterr()
    assert "already has panel run" in captured.out + captured.err


def test_add_refuses_an_unclosed_fact(catalog, capsys):
    code = main(
        [
            "add",
            "--name",
            "Odd",
            "--category",
            "llm-apis",
            "--kind",
            "api",
            "--source",
            "https://example.com",
            "--fact",
            "runtimes=[Linux, macOS",
        ]
    )
    assert code == 2 and "not valid YAML" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("SHIPORSKIP_TIMEOUT", "soon", "SHIPORSKIP_TIMEOUT='soon' is not a number"),
        ("SHIPORSKIP_MAX_RETRIES", "-1", "SHIPORSKIP_MAX_RETRIES=-1 must be at least 0"),
        ("SHIPORSKIP_STRUCTURED_OUTPUT", "xml", "must be one of: json_schema"),
    ],
)
def test_bad_llm_settings_are_named(name, value, words):
    result = run_script("compare", "a", "b", **{name: value})
    assert result.returncode == 2 and words in result.stderr
