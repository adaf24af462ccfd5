import pytest
import yaml

from shiporskip.catalog.models import Tool
from shiporskip.panel.models import Persona
from shiporskip.panel.personas import BUNDLED_PERSONAS, PersonaError, load_personas
from shiporskip.panel.running import review_tool


def bundled() -> dict:
    return yaml.safe_load(BUNDLED_PERSONAS.read_text())


def test_the_default_panel(db):
    assert load_personas() == 4
    assert load_personas() == 4  # an upsert by key
    assert list(Persona.objects.active().values_list("name", flat=True)) == [
        "Builder",
        "Skeptic",
        "Futurist",
        "Founder",
    ]
    builder = Persona.objects.get(key="builder")
    assert [s["key"] for s in builder.sections] == ["primitive", "dx_bet", "moment_of_truth", "decision"]
    assert sum(c["weight"] for c in builder.criteria) > 0 and builder.motto


def test_a_malformed_persona_file_is_refused_by_field(db, tmp_path):
    data = bundled()
    data["personas"][1]["ship_threshold"] = 140
    path = tmp_path / "personas.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PersonaError, match=r"personas\[1\]: ship_threshold"):
        load_personas(path)
    assert not Persona.objects.exists()


def test_a_publisher_adds_and_retires_personas(seed_pair, tmp_path):
    data = bundled()
    data["personas"][1]["active"] = False  # retire the skeptic
    data["personas"].append(
        {
            "key": "teacher",
            "name": "Teacher",
            "lens": "The one who explains it",
            "motto": "If you cannot teach it, you do not know it.",
            "style_brief": "Patient.",
            "ship_threshold": 60,
            "sections": [{"key": "lesson", "title": "The lesson", "question": "What does it teach?"}],
            "criteria": [
                {"key": "checkable", "label": "Clarity", "weight": 1},
                {"key": "made_up", "label": "Unknown to the offline rules", "weight": 1},
            ],
        }
    )
    path = tmp_path / "personas.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_personas(path) == 5
    run = review_tool(tool=seed_pair[0], model="offline")
    keys = sorted(run.reviews.values_list("persona__key", flat=True))
    assert keys == ["builder", "founder", "futurist", "teacher"]
    lesson = run.reviews.get(persona__key="teacher")
    assert lesson.sections["lesson"].startswith('On "What does it teach?": ')
    assert "Code Llama 4" in lesson.sections["lesson"] and str(lesson.score) in lesson.sections["lesson"]
    # A criterion no offline rule knows is left out of the score and named, never scored 50.
    assert "made_up" not in lesson.criteria and lesson.unknown == ["made_up"]
    assert lesson.score == lesson.criteria["checkable"]
    assert Tool.objects.with_panel().get(pk=seed_pair[0].pk).panel.total == 4
