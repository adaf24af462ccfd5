import json

import pytest
import yaml

from shiporskip.panel.personas import BUNDLED_PERSONAS
from shiporskip.panel.replies import (
    ReplyError,
    close_truncated,
    grammar_schema,
    parse_reply,
    reply_schema,
)
from tests.chat_server import valid_review

PERSONA = {**yaml.safe_load(BUNDLED_PERSONAS.read_text())["personas"][0], "active": True}


def test_the_schema_is_self_contained_and_names_every_key():
    schema = reply_schema(PERSONA)
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text
    assert schema["properties"]["sections"]["required"] == [s["key"] for s in PERSONA["sections"]]
    assert schema["properties"]["criteria"]["properties"]["integration"]["maximum"] == 100


def test_grammar_schema_spells_bounds_as_enums():
    schema = grammar_schema(reply_schema(PERSONA))
    assert schema["properties"]["score"]["enum"] == list(range(101))
    primitive = schema["properties"]["sections"]["properties"]["primitive"]
    assert primitive["pattern"].startswith("^[A-Za-z]")


def test_a_fenced_reply_is_unwrapped():
    raw = "Here you go:\n```json\n" + json.dumps(valid_review(PERSONA)) + "\n```"
    parsed = parse_reply(raw, PERSONA)
    assert parsed.reply.score == 80 and "ignored text around the JSON object" in parsed.repairs


def test_backticks_inside_a_section_are_just_text():
    review = valid_review(PERSONA)
    review["sections"]["decision"] = "Run ```pip install it``` and see."
    parsed = parse_reply(json.dumps(review), PERSONA)
    assert parsed.reply.sections["decision"] == "Run ```pip install it``` and see."
    assert parsed.repairs == []


@pytest.mark.parametrize("cut", [10, 40, 120])
def test_truncated_replies_are_closed_or_refused_by_field(cut):
    whole = json.dumps(valid_review(PERSONA))
    try:
        parsed = parse_reply(whole[: len(whole) - cut], PERSONA)
    except ReplyError as exc:
        assert "Field required" in str(exc) or "verdict" in str(exc)
    else:
        assert "closed a truncated JSON reply" in parsed.repairs


def test_close_truncated_closes_strings_and_brackets():
    assert json.loads(close_truncated('{"a": {"b": "unfinished')) == {"a": {"b": "unfinished"}}
    assert json.loads(close_truncated('{"a": [1, 2,')) == {"a": [1, 2]}


@pytest.mark.parametrize("text", ["", "   ", "...", "}, ", "<your answer>"])
def test_blank_and_placeholder_sections_are_refused(text):
    review = valid_review(PERSONA)
    review["sections"]["decision"] = text
    with pytest.raises(ReplyError, match="decision"):
        parse_reply(json.dumps(review), PERSONA)


@pytest.mark.parametrize("raw", ["no json here", "[1, 2]", '{"score": "high"}'])
def test_prose_and_wrong_shapes_are_refused(raw):
    with pytest.raises(ReplyError):
        parse_reply(raw, PERSONA)


def test_extra_keys_are_refused():
    review = {**valid_review(PERSONA), "confidence": 0.9}
    with pytest.raises(ReplyError, match="confidence"):
        parse_reply(json.dumps(review), PERSONA)
