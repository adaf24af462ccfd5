"""The review schema per persona, and defensive parsing of what a model replies.

One pydantic model per persona (built from `ReviewReply`'s fields) gives both the JSON schema
sent to the server and the validation of its reply, so the two cannot drift apart. Parsing
repairs what can be repaired without guessing (code fences, raw control characters, a
truncated tail) and reports the rest as a ReplyError whose message is fed back to the model
on the next attempt. The score and verdict are the verdict rule's (`verdict.py`), computed
from the reply's criteria, whatever the model wrote; sections must be written answers
(`sections.py`).
"""

import copy
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from shiporskip.panel import sections as answers
from shiporskip.panel.backends.base import ReviewReply
from shiporskip.panel.specs import PersonaSpec
from shiporskip.panel.verdict import verdict_for, weighted_score

SECTION_MAX_CHARS = 900
# A model's own score this close to the computed one is rounding, not worth a note.
SCORE_TOLERANCE = 2


class ReplyError(ValueError):
    """A reply that is not a valid review; the message says what to fix."""


@dataclass
class Parsed:
    reply: ReviewReply
    repairs: list[str] = field(default_factory=list)


def reply_model(persona: PersonaSpec) -> type[BaseModel]:
    """The pydantic model of one persona's review: its sections and criteria, by key."""
    return _reply_model(persona.model_dump_json())


@functools.lru_cache(maxsize=64)
def _reply_model(persona_json: str) -> type[BaseModel]:
    # Building a pydantic model costs milliseconds: once per persona version, not per call.
    persona = PersonaSpec.model_validate_json(persona_json)
    strict = ConfigDict(extra="forbid")
    sections: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "Sections",
        __config__=strict,
        **{
            s.key: (str, Field(min_length=1, max_length=SECTION_MAX_CHARS, description=s.question))
            for s in persona.sections
        },
    )
    criteria: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "Criteria",
        __config__=strict,
        **{c.key: (int, Field(ge=0, le=100, description=c.label)) for c in persona.criteria},
    )
    fields = ReviewReply.model_fields
    return create_model(
        "Review",
        __config__=strict,
        sections=(sections, Field(description=fields["sections"].description)),
        criteria=(criteria, Field(description=fields["criteria"].description)),
        score=(int, Field(ge=0, le=100, description=fields["score"].description)),
        verdict=(str, Field(pattern="^(ship|skip)$", description=fields["verdict"].description)),
    )


def reply_schema(persona: PersonaSpec) -> dict:
    """A self-contained JSON schema (no $ref, no titles) that llama.cpp's grammar accepts."""
    return copy.deepcopy(_reply_schema(persona.model_dump_json()))


@functools.lru_cache(maxsize=64)
def _reply_schema(persona_json: str) -> dict:
    schema = _reply_model(persona_json).model_json_schema()
    return _inline(schema, schema.get("$defs", {}))


def _inline(node, defs):
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].split("/")[-1]], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k not in {"$defs", "title"}}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def parse_reply(raw: str, persona: PersonaSpec, unknown: frozenset[str] = frozenset()) -> Parsed:
    """Return a valid review from a model's raw text, or raise ReplyError saying why not.

    `unknown` names the criteria whose facts are not known: they are left out of the score.
    """
    repairs: list[str] = []
    data = _load_json(raw, repairs)
    if not isinstance(data, dict):
        raise ReplyError("the reply must be one JSON object")
    _fill_score(data, persona, unknown, repairs)
    try:
        valid: Any = reply_model(persona).model_validate(data)  # a model built per persona
    except ValidationError as exc:
        raise ReplyError(_describe(exc)) from None
    sections = {k: v.strip() for k, v in valid.sections.model_dump().items()}
    if problems := answers.problems(sections, persona):
        raise ReplyError(describe_sections(problems))
    criteria = valid.criteria.model_dump()
    score, verdict = _apply_rule(valid, criteria, persona, unknown, repairs)
    reply = ReviewReply(score=score, verdict=verdict, criteria=criteria, sections=sections)
    return Parsed(reply, repairs)


def _apply_rule(valid, criteria, persona, unknown, repairs) -> tuple[int, str]:
    """Score and verdict by the verdict rule, noting where the model's own ones departed."""
    score = rule_score(persona, criteria, unknown)
    if abs(valid.score - score) > SCORE_TOLERANCE:
        repairs.append(f"score {valid.score} replaced by {score}, the weighted criteria")
    verdict = verdict_for(score, persona.ship_threshold)
    if valid.verdict != verdict:
        repairs.append(f"verdict {valid.verdict} contradicted score {score}")
    return score, verdict


def rule_score(persona: PersonaSpec, criteria: dict[str, int], unknown: frozenset[str]) -> int:
    """The verdict rule's score: the weighted criteria, unknown ones left out.

    With every criterion unknown there is nothing to leave them for: all of them count.
    """
    known = {k: (None if k in unknown else v) for k, v in criteria.items()}
    score = weighted_score(persona.criteria, known)
    if score is None:  # every criterion unknown: all of them count (they are all given)
        score = weighted_score(persona.criteria, criteria)
    assert score is not None  # a persona has at least one criterion, each weighing 1 or more
    return score


def describe_sections(problems: dict[str, str]) -> str:
    listed = "; ".join(f"{key} {reason}" for key, reason in problems.items())
    return (
        f"sections not written as answers: {listed}. Answer each section's own question "
        "about this tool, in sentences of your own"
    )


def _load_json(raw: str, repairs: list[str]):
    text = raw.strip()
    start = text.find("{")
    if start < 0:
        raise ReplyError("the reply holds no JSON object")
    decoder = json.JSONDecoder(strict=False)  # accepts raw control characters in strings
    try:
        data, end = decoder.raw_decode(text[start:])
    except json.JSONDecodeError:
        pass
    else:
        if text[:start].strip() or text[start + end :].strip():
            repairs.append("ignored text around the JSON object")
        return data
    body = re.sub(r"\s*```\s*$", "", text[start:])  # a fence left open by a truncated reply
    try:
        data = decoder.decode(close_truncated(body))
    except json.JSONDecodeError as exc:
        raise ReplyError(f"the reply is not valid JSON ({exc.msg} at character {exc.pos})") from None
    repairs.append("closed a truncated JSON reply")
    return data


def close_truncated(text: str) -> str:
    """Close the strings, arrays and objects a cut-off reply left open."""
    stack, in_string, escaped = [], False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
    tail = text + ('"' if in_string else "")
    tail = re.sub(r",\s*$", "", tail)
    tail = re.sub(r',\s*"[^"]*"\s*:?\s*$', "", tail)  # a key with no value yet
    return tail + "".join(reversed(stack))


def _fill_score(data: dict, persona: PersonaSpec, unknown: frozenset[str], repairs: list[str]) -> None:
    """Put the computed score in place of a missing or out-of-range one, if the criteria are valid.

    A valid score is left for validation and compared afterwards; criteria that are not
    valid are left for validation to name.
    """
    score = data.get("score")
    if _is_score(score):
        return
    criteria = data.get("criteria")
    keys = {c.key for c in persona.criteria}
    if not isinstance(criteria, dict) or set(criteria) != keys:
        return
    if not all(_is_score(v) for v in criteria.values()):
        return
    data["score"] = rule_score(persona, criteria, unknown)
    repairs.append(f"score {score!r} replaced by {data['score']}, the weighted criteria")


def _is_score(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "reply"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


# Section text as a grammar may generate it: starts with a letter, no braces or quotes,
# MIN_WORDS to 60 words of at most 25 characters. Without it a small model writes JSON
# fragments ("}, "), a word or two, or one endless token ("dx-bet-1000000...") that eats the
# token budget before the other sections.
_WORD_TAIL = "[A-Za-z0-9,.;:'()/%-]{0,24}"
SECTION_PATTERN = f"^[A-Za-z]{_WORD_TAIL}( [A-Za-z0-9(]{_WORD_TAIL}){{{answers.MIN_WORDS - 1},59}}$"


def grammar_schema(schema: dict) -> dict:
    """Tighten the schema for llama.cpp's grammar, which enforces enums and patterns only.

    0-100 integers become an enum, and section strings get SECTION_PATTERN. Validation still
    uses the plain schema: replies from other servers may quote and punctuate freely.
    """
    if isinstance(schema, dict):
        node: dict[str, Any] = {k: grammar_schema(v) for k, v in schema.items()}
        if node.get("type") == "integer" and "minimum" in node and "maximum" in node:
            node["enum"] = list(range(int(node["minimum"]), int(node["maximum"]) + 1))
        if node.get("type") == "string" and "maxLength" in node:
            node["pattern"] = SECTION_PATTERN
        return node
    if isinstance(schema, list):
        return [grammar_schema(item) for item in schema]
    return schema
