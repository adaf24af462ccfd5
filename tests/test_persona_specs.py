"""One check for a persona, whichever way it comes in: the admin refuses exactly what the YAML
file refuses, with the same words, and stores what it accepts as the file's loader stores it."""

import copy
import html
import json

import pytest
import yaml

from shiporskip.panel.models import Persona
from shiporskip.panel.personas import BUNDLED_PERSONAS, PersonaError, load_personas
from shiporskip.panel.specs import PersonaSpec, validate_persona


def builder() -> dict:
    return yaml.safe_load(BUNDLED_PERSONAS.read_text())["personas"][0]


def criterion(data: dict, **changes) -> dict:
    return {**data, "criteria": [{**data["criteria"][0], **changes}, *data["criteria"][1:]]}


def section(data: dict, **changes) -> dict:
    return {**data, "sections": [{**data["sections"][0], **changes}, *data["sections"][1:]]}


# Each is a persona the admin accepted before (its model fields allow it) and a file never did.
BAD = {
    "a key with a capital and a hyphen": lambda p: {**p, "key": "Builder-2"},
    "a bar over 100": lambda p: {**p, "ship_threshold": 140},
    "a weight of 0": lambda p: criterion(p, weight=0),
    "a weight over 10": lambda p: criterion(p, weight=11),
    "a criterion with no label": lambda p: criterion(p, label=" "),
    "a criterion key that is not a key": lambda p: criterion(p, key="Dev Experience"),
    "an unknown field in a criterion": lambda p: criterion(p, rank=1),
    "anchors without 80": lambda p: criterion(p, anchors={"20": "Poor", "50": "Typical"}),
    "two sections with one key": lambda p: {**p, "sections": [p["sections"][0], *p["sections"]]},
    "no sections": lambda p: {**p, "sections": []},
    "no criteria": lambda p: {**p, "criteria": []},
    "a section with no question": lambda p: section(p, question=""),
    "a summary that is no section": lambda p: {**p, "summary_section": "verdict"},
    "a criteria list of text": lambda p: {**p, "criteria": ["integration"]},
    "an escape character in a title": lambda p: section(p, title="Dev\x1bX"),
    "a CR in the style brief": lambda p: {**p, "style_brief": "Terse.\rBcc: x"},
}

# Where Django's own form field refuses first (a JSON field left empty), in its own words.
FIELD_SAYS = {"no sections": "This field is required.", "no criteria": "This field is required."}


def from_file(tmp_path, persona: dict) -> str | None:
    """The file loader's refusal (without its `personas[0]: ` prefix), or None if it loads."""
    path = tmp_path / "personas.yaml"
    path.write_text(yaml.safe_dump({"personas": [persona]}, allow_unicode=True))
    try:
        load_personas(path)
    except PersonaError as exc:
        return str(exc).removeprefix("personas[0]: ")
    return None


def admin_form(persona: dict, order: int = 0) -> dict:
    form = {k: v for k, v in persona.items() if k not in {"excites", "tires", "sections", "criteria"}}
    form |= {k: json.dumps(persona.get(k, [])) for k in ("excites", "tires", "sections", "criteria")}
    form |= {"order": order, "active": "on", "summary_section": persona.get("summary_section", "")}
    return form


@pytest.fixture
def persona_admin(admin_client, db):
    load_personas()
    stored = Persona.objects.get(key="builder")
    return admin_client, f"/admin/panel/persona/{stored.pk}/change/"


@pytest.mark.parametrize("case", BAD)
def test_the_admin_refuses_what_the_file_refuses_in_the_same_words(case, persona_admin, tmp_path):
    client, url = persona_admin
    bad = BAD[case](copy.deepcopy(builder()))
    before = list(Persona.objects.order_by("pk").values())
    refused = from_file(tmp_path, bad)
    assert refused, case
    response = client.post(url, admin_form(bad))
    assert response.status_code == 200, case  # the form again, with the error
    said = FIELD_SAYS.get(case, refused)
    assert said in html.unescape(response.content.decode()), (case, said)
    assert list(Persona.objects.order_by("pk").values()) == before, case


def test_what_the_file_accepts_the_admin_accepts_and_stores_alike(persona_admin, tmp_path):
    client, url = persona_admin
    good = criterion(
        builder(),
        label="  Integration surface  ",
        anchors={20: "Closed", 50: "An API", 80: "Everything scriptable"},
    )
    good["style_brief"] = "Terse.\nConcrete."
    form = admin_form(good) | {"style_brief": "Terse.\r\nConcrete."}  # a text area sends CRLF
    assert client.post(url, form).status_code == 302
    by_admin = Persona.objects.get(key="builder").data()
    assert from_file(tmp_path, good) is None
    assert Persona.objects.get(key="builder").data() == by_admin  # the loader stores the same
    assert by_admin["criteria"][0]["label"] == "Integration surface"
    assert by_admin["criteria"][0]["anchors"] == {
        "20": "Closed",
        "50": "An API",
        "80": "Everything scriptable",
    }


def test_backends_get_the_typed_spec_with_the_stored_version(db):
    load_personas()
    persona = Persona.objects.get(key="skeptic")
    spec = persona.spec()
    assert isinstance(spec, PersonaSpec) and spec.key == "skeptic"
    assert spec.data() == persona.data()  # prompts and call keys hash what the database holds
    assert all(c.weight >= 1 for c in spec.criteria)
    with pytest.raises(PersonaError, match=r"^ship_threshold: "):
        validate_persona({**persona.data(), "ship_threshold": -1})
