import json

import pytest
import yaml

from shiporskip.panel.personas import BUNDLED_PERSONAS, PersonaSpec
from shiporskip.panel.replies import (
    ReplyError,
    close_truncated,
    grammar_schema,
    parse_reply,
    reply_schema,
)
from tests.chat_server import valid_review

PERSONA = {**yaml.safe_load(BUNDLED_PERSONAS.read_text())["personas"][0], "active": True}
SPEC = PersonaSpec.model_validate(PERSONA)  # what backends hand the parser


def test_the_schema_is_self_contained_and_names_every_key():
    schema = reply_schema(SPEC)
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text
    assert schema["properties"]["sections"]["required"] == [s["key"] for s in PERSONA["sections"]]
    assert schema["properties"]["criteria"]["properties"]["integration"]["maximum"] == 100


def test_grammar_schema_spells_bounds_as_enums():
    schema = grammar_schema(reply_schema(SPEC))
    assert schema["properties"]["score"]["enum"] == list(range(101))
    primitive = schema["properties"]["sections"]["properties"]["primitive"]
    assert primitive["pattern"].startswith("^[A-Za-z]")


def test_a_fenced_reply_is_unwrapped():
    raw = "Here you go:\n```json\n" + json.dumps(valid_review(PERSONA)) + "\n```"
    parsed = parse_reply(raw, SPEC)
    assert parsed.reply.score == 80 and "ignored text around the JSON object" in parsed.repairs


def test_backticks_inside_a_section_are_just_text():
    review = valid_review(PERSONA)
    review["sections"]["decision"] = "Run ```pip install it``` and see."
    parsed = parse_reply(json.dumps(review), SPEC)
    assert parsed.reply.sections["decision"] == "Run ```pip install it``` and see."
    assert parsed.repairs == []


@pytest.mark.parametrize("cut", [10, 40, 120])
def test_truncated_replies_are_closed_or_refused_by_field(cut):
    whole = json.dumps(valid_review(PERSONA))
    try:
        parsed = parse_reply(whole[: len(whole) - cut], SPEC)
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
        parse_reply(json.dumps(review), SPEC)


@pytest.mark.parametrize("raw", ["no json here", "[1, 2]", '{"score": "high"}'])
def test_prose_and_wrong_shapes_are_refused(raw):
    with pytest.raises(ReplyError):
        parse_reply(raw, SPEC)


def test_extra_keys_are_refused():
    review = {**valid_review(PERSONA), "confidence": 0.9}
    with pytest.raises(ReplyError, match="confidence"):
        parse_reply(json.dumps(review), SPEC)


def review_with(criteria: int, score: int, **overrides) -> dict:
    return {**valid_review(PERSONA, score=criteria), "score": score, **overrides}


def test_a_score_departing_from_the_criteria_is_replaced_and_the_verdict_follows():
    parsed = parse_reply(json.dumps(review_with(10, 95, verdict="ship")), SPEC)
    assert (parsed.reply.score, parsed.reply.verdict) == (10, "skip")
    assert "score 95 replaced by 10, the weighted criteria" in parsed.repairs


def test_a_consistent_reply_is_untouched():
    review = valid_review(PERSONA, score=80)
    parsed = parse_reply(json.dumps(review), SPEC)
    assert parsed.repairs == []
    assert parsed.reply.model_dump() == {**review, "verdict": "ship"}


def test_rounding_differences_take_the_computed_score_without_a_note():
    parsed = parse_reply(json.dumps(review_with(70, 72)), SPEC)
    assert (parsed.reply.score, parsed.reply.verdict, parsed.repairs) == (70, "ship", [])


def test_unknown_criteria_are_left_out_of_the_score():
    review = valid_review(PERSONA)
    review["criteria"] = {"works": 90, "integration": 20, "runs_where_needed": 20, "cost_to_try": 30}
    review |= {"score": 48, "verdict": "skip"}  # weights 3, 2, 2, 1: (270 + 40 + 40 + 30) / 8
    everything = parse_reply(json.dumps(review), SPEC)
    assert (everything.reply.score, everything.reply.verdict, everything.repairs) == (48, "skip", [])
    known = parse_reply(json.dumps(review), SPEC, unknown=frozenset({"integration", "runs_where_needed"}))
    assert (known.reply.score, known.reply.verdict) == (75, "ship")  # (270 + 30) / 4
    assert "score 48 replaced by 75, the weighted criteria" in known.repairs
    assert known.reply.criteria == review["criteria"]  # the model's sub-scores are kept


def test_with_every_criterion_unknown_all_of_them_count():
    keys = frozenset(c["key"] for c in PERSONA["criteria"])
    parsed = parse_reply(json.dumps(review_with(40, 40)), SPEC, unknown=keys)
    assert parsed.reply.score == 40


QUESTION = PERSONA["sections"][0]["question"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x", "is a placeholder"),
        ("N/A", "is a placeholder"),
        ("TBD.", "is a placeholder"),
        ("...", "is a placeholder"),
        ("<write two sentences here>", "is a placeholder"),
        ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.", "is a placeholder"),
        ("ship ship ship ship ship ship", "is a placeholder"),
        (QUESTION, "repeats its question"),
        ("The primitive.", "repeats its question"),
        (f'string answering "{QUESTION}"', "repeats its question"),
        ("What is it underneath? Weights, an API, a platform or a wrapper.", "repeats its question"),
        (PERSONA["sections"][3]["question"], "repeats the decision section's question"),
        (f"{QUESTION} (e.g., a new product launch)", "repeats its question"),
        (
            "Which bet wins, and which one concrete decision earns or loses the ship",
            "repeats the decision section's question",
        ),
        ("Open weights, that is all.", "has 5 words"),
        (valid_review(PERSONA)["sections"]["decision"], "copies the"),
        (valid_review(PERSONA)["sections"]["dx_bet"].replace("teams", "people"), "copies the"),
    ],
)
def test_sections_that_do_not_answer_are_sent_back_with_the_reason(text, reason):
    review = valid_review(PERSONA)
    review["sections"]["primitive"] = text
    with pytest.raises(ReplyError, match="primitive") as caught:
        parse_reply(json.dumps(review), SPEC)
    assert reason in str(caught.value)
    assert "Answer each section's own question" in str(caught.value)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("primitive", "Open weights under Apache 2.0, served by Ollama, vLLM and llama.cpp."),
        ("primitive", "It is a model: weights you download and run, with no hosted API of its own."),
        ("primitive", "What is it, underneath? Weights: a 22B model you run yourself on one GPU."),
        ("decision", "The one concrete decision that earns the ship is the Apache licence."),
        ("moment_of_truth", "The first real task a developer tries is loading the weights, and it survives."),
    ],
)
def test_plain_answers_pass_even_when_they_reuse_the_question_words(key, text):
    review = valid_review(PERSONA)
    review["sections"][key] = text
    assert parse_reply(json.dumps(review), SPEC).reply.sections[key] == text
