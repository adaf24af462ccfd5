import pytest

from shiporskip.catalog.facts import FactsError, validate_facts
from tests.conftest import FACTS


def test_valid_facts_parse():
    facts = validate_facts(FACTS)
    assert facts.context_window == 32768
    assert str(facts.sources[0]) == "https://example.com/model-card"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "spaceship"}, "facts.kind"),
        ({"facts_as_of": "last tuesday"}, "facts.facts_as_of"),
        ({"sources": []}, "facts.sources"),
        ({"sources": ["not a url"]}, "facts.sources.0"),
        ({"context_window": -5}, "facts.context_window"),
        ({"release_year": 1066}, "facts.release_year"),
        ({"favourite_colour": "blue"}, "facts.favourite_colour"),
    ],
)
def test_malformed_facts_are_refused_naming_the_field(change, field):
    with pytest.raises(FactsError) as exc:
        validate_facts({**FACTS, **change})
    assert str(exc.value).startswith(field + ":")


def test_missing_required_fields_are_named():
    with pytest.raises(FactsError) as exc:
        validate_facts({"kind": "app"})
    assert "facts.facts_as_of" in str(exc.value) and "facts.sources" in str(exc.value)


@pytest.mark.parametrize(
    ("text", "billions"),
    [
        ("22B", 22),
        ("up to 70B", 70),
        ("8B, 70B and 405B", 405),
        ("270M", 0.27),
        ("46.7B total", 46.7),
        (None, None),
        ("unknown", None),
    ],
)
def test_largest_parameter_count(text, billions):
    assert validate_facts({**FACTS, "parameters": text}).max_parameters_billions() == billions
