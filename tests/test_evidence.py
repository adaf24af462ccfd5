"""Evidence: sourced, dated figures; refused by field name when malformed; checked for coverage."""

import copy
import datetime
import json

import pytest
import yaml

from shiporskip.catalog.coverage import coverage
from shiporskip.catalog.facts import FactsError, validate_facts
from shiporskip.catalog.loading import BUNDLED_CATALOG, read_file
from shiporskip.catalog.models import Tool
from shiporskip.cli import main
from tests.conftest import FACTS, tool_entry

SRC = {"source": "https://example.com/pricing", "as_of": "2026-01-15"}
# A date in the future when the test runs, not only when the module is read: a day ahead
# turned into today when a run crossed midnight, and the test failed (CI met it at 00:00 UTC).
FUTURE = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()


def with_evidence(**groups) -> dict:
    return {**copy.deepcopy(FACTS), **groups}


def test_a_full_evidence_record_parses():
    facts = validate_facts(
        with_evidence(
            price={"currency": "USD", "free_tier": True, "seat_monthly": 0, **SRC},
            capabilities=[
                {
                    "metric": "aider_polyglot",
                    "value": 52.4,
                    "unit": "percent",
                    "setup": "aider with gpt-4.1, diff",
                    **SRC,
                }
            ],
            limits={
                "max_output_tokens": 8192,
                "gpu_required": False,
                "platforms": ["Linux"],
                "sizes": [{"parameters": "7B", "memory_gb": 4.7, "quantisation": "Q4_K_M", **SRC}],
                **SRC,
            },
            adoption={"repository": "https://github.com/example/model", "stars": 1200, **SRC},
            deployment={"cloud": False, "on_device": True, **SRC},
            terms={"commercial_use": "Apache 2.0: commercial use allowed", **SRC},
        )
    )
    assert facts.capability("aider_polyglot").shown() == "52.4%"
    assert facts.smallest_memory_gb() == 4.7


@pytest.mark.parametrize(
    ("groups", "field"),
    [
        ({"price": {"seat_monthly": 10}}, "facts.price.source"),
        ({"price": {"seat_monthly": -1, **SRC}}, "facts.price.seat_monthly"),
        ({"price": {"input_per_mtok": 2.5, "output_per_mtok": 10, **SRC}}, "facts.price"),  # no model named
        ({"price": {"seat_monthly": 10, "source": "https://e.com", "as_of": FUTURE}}, "facts.price.as_of"),
        ({"capabilities": [{"metric": "mmlu", "value": 70, "unit": "elo", **SRC}]}, "facts.capabilities.0"),
        (
            {"capabilities": [{"metric": "mmlu", "value": 70, "unit": "furlongs", **SRC}]},
            "facts.capabilities.0",
        ),
        (
            {"capabilities": [{"metric": "mmlu", "value": 170, "unit": "percent", **SRC}]},
            "facts.capabilities.0",
        ),
        (
            {"capabilities": [{"metric": "tokens_per_second", "value": 40, "unit": "tokens/s", **SRC}]},
            "facts.capabilities.0",
        ),  # throughput without its hardware means nothing
        (
            {"capabilities": [{"metric": "mmlu", "value": 70, "unit": "percent"}]},
            "facts.capabilities.0.source",
        ),
        ({"limits": {"sizes": [{"parameters": "7B", "memory_gb": 4, **SRC}], **SRC}}, "facts.limits.sizes.0"),
        ({"terms": {"commercial_use": "ok", "source": "nope", "as_of": "2026-01-01"}}, "facts.terms"),
    ],
)
def test_malformed_evidence_is_refused_naming_the_field(groups, field):
    with pytest.raises(FactsError) as exc:
        validate_facts(with_evidence(**groups))
    assert str(exc.value).startswith(field), str(exc.value)


def test_malformed_evidence_in_a_file_changes_nothing(db, tmp_path, capsys):
    entry = tool_entry("Bad Prices", facts={"price": {"seat_monthly": -5, **SRC}})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"tools": [entry]}))
    assert main(["catalog", "load", str(path)]) == 2
    assert "tools[0] (Bad Prices): facts.price.seat_monthly" in capsys.readouterr().err
    assert not Tool.objects.filter(slug="bad-prices").exists()


def test_malformed_evidence_from_cli_flags_is_refused(db, capsys):
    figure = "{metric: mmlu, value: 70, unit: elo, source: https://e.com, as_of: 2026-01-01}"
    code = main(
        [
            "add",
            "--name",
            "Odd",
            "--category",
            "open-weight-models",
            "--kind",
            "model",
            "--source",
            "https://example.com",
            "--fact",
            f"capabilities=[{figure}]",
        ]
    )
    assert code == 2 and "facts.capabilities.0" in capsys.readouterr().err
    assert not Tool.objects.filter(slug="odd").exists()


def test_malformed_evidence_in_the_admin_is_refused(admin_client, catalog):
    tool = Tool.objects.get(slug="ollama")
    facts = {**tool.facts, "price": {"seat_monthly": -3, **SRC}}
    response = admin_client.post(
        f"/admin/catalog/tool/{tool.pk}/change/",
        {
            "name": tool.name,
            "slug": tool.slug,
            "vendor": tool.vendor,
            "category": tool.category_id,
            "facts": json.dumps(facts),
            "facts_changes-TOTAL_FORMS": 0,
            "facts_changes-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200 and "facts.price.seat_monthly" in response.content.decode()
    assert Tool.objects.get(pk=tool.pk).facts == tool.facts


def test_an_old_format_file_still_loads(db):
    """A record with none of the evidence groups is valid: they are all optional."""
    facts = validate_facts(FACTS)
    assert facts.price is None and facts.capabilities == []
    assert "no price in numbers" in coverage(facts).warnings


def test_coverage_counts_only_what_applies_to_the_kind():
    model = coverage(validate_facts(FACTS))
    library = coverage(validate_facts({**FACTS, "kind": "library"}))
    assert "sizes and memory" in model.unknown and "sizes and memory" not in library.unknown
    assert "no capability evidence" not in library.warnings  # a library may have no benchmark


def test_the_bundled_catalog_passes_its_check(db, capsys):
    """Every bundled tool has a price in numbers and at least a third of its facts known."""
    assert main(["catalog", "check", str(BUNDLED_CATALOG), "--json", "--min-coverage", "0.35"]) == 0
    data = json.loads(capsys.readouterr().out)
    tools = data["tools"]
    assert len(tools) == len(read_file(BUNDLED_CATALOG)["tools"])
    assert {"slug", "coverage", "evidence", "stale", "warnings"} <= set(tools[0])
    assert not [t["slug"] for t in tools if "no price in numbers" in t["warnings"]]
    assert data["summary"]["with_evidence"] >= 35
    assert all(0 <= t["coverage"] <= 1 for t in tools)


def test_catalog_check_fails_below_the_minimum(db, capsys):
    assert main(["catalog", "check", str(BUNDLED_CATALOG), "--min-coverage", "0.99"]) == 1
    assert "below --min-coverage 99%" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["catalog", "check", "--min-coverage", "2"])
    assert exc.value.code == 2 and "not a share between 0 and 1" in capsys.readouterr().err


def test_the_api_returns_the_whole_record(client, catalog):
    data = client.get("/api/tools/cursor").json()
    assert data["facts"]["price"]["seat_monthly"] == 20
    assert 0 < data["coverage"]["coverage"] <= 1
