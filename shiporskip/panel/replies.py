"""The review schema per persona, and defensive parsing of what a model replies.

One pydantic model per persona (built from `ReviewReply`'s fields) gives both the JSON schema
sent to the server and the validation of its reply, so the two cannot drift apart. Parsing
repairs what can be repaired without guessing (code fences, raw control characters, a
truncated tail, a verdict that contradicts the score) and reports the rest as a ReplyError
whose message is fed back to the model on the next attempt.
"""

import copy
import functools
import json
import re
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from shiporskip.panel.backends.base import ReviewReply

SECTION_MAX_CHARS = 900


class ReplyError(ValueError):
    """A reply that is not a valid review; the message says what to fix."""


@dataclass
class Parsed:
    reply: ReviewReply
    repairs: list[str] = field(default_factory=list)


def reply_model(persona: dict) -> type[BaseModel]:
    """The pydantic model of one persona's review: its sections and criteria, by key."""
    return _reply_model(json.dumps(persona, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _reply_model(persona_json: str) -> type[BaseModel]:
    # Building a pydantic model costs milliseconds: once per persona version, not per call.
    persona = json.loads(persona_json)
    strict = ConfigDict(extra="forbid")
    sections = create_model(
        "Sections", __config__=strict,
        **{s["key"]: (str, Field(min_length=1, max_length=SECTION_MAX_CHARS,
                                 description=s["question"])) for s in persona["sections"]})
    criteria = create_model(
        "Criteria", __config__=strict,
        **{c["key"]: (int, Field(ge=0, le=100, description=c["label"]))
           for c in persona["criteria"]})
    fields = ReviewReply.model_fields
    return create_model(
        "Review", __config__=strict,
        sections=(sections, Field(description=fields["sections"].description)),
        criteria=(criteria, Field(description=fields["criteria"].description)),
        score=(int, Field(ge=0, le=100, description=fields["score"].description)),
        verdict=(str, Field(pattern="^(ship|skip)$", description=fields["verdict"].description)),
    )


def reply_schema(persona: dict) -> dict:
    """A self-contained JSON schema (no $ref, no titles) that llama.cpp's grammar accepts."""
    return copy.deepcopy(_reply_schema(json.dumps(persona, sort_keys=True)))


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


def parse_reply(raw: str, persona: dict) -> Parsed:
    """Return a valid review from a model's raw text, or raise ReplyError saying why not."""
    repairs: list[str] = []
    data = _load_json(raw, repairs)
    if not isinstance(data, dict):
        raise ReplyError("the reply must be one JSON object")
    _derive_score(data, persona, repairs)
    try:
        valid = reply_model(persona).model_validate(data)
    except ValidationError as exc:
        raise ReplyError(_describe(exc)) from None
    verdict = "ship" if valid.score >= persona["ship_threshold"] else "skip"
    if valid.verdict != verdict:
        repairs.append(f"verdict {valid.verdict} contradicted score {valid.score}")
    sections = {k: v.strip() for k, v in valid.sections.model_dump().items()}
    if empty := [k for k, v in sections.items() if not written(v)]:
        raise ReplyError(f"sections {', '.join(empty)} are blank or placeholders: write each "
                         "one as sentences about the tool")
    reply = ReviewReply(score=valid.score, verdict=verdict,
                        criteria=valid.criteria.model_dump(), sections=sections)
    return Parsed(reply, repairs)


PLACEHOLDERS = {"...", "…", "<your answer>", "your answer", "n/a", "none", "tbd", "text"}


def written(text: str) -> bool:
    """False for a blank, punctuation-only or template-placeholder section.

    Prose quality is not judged here: a weak model's poor sentences still count as written.
    """
    return bool(re.search(r"\w", text)) and text.strip().lower() not in PLACEHOLDERS


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
        if text[:start].strip() or text[start + end:].strip():
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


def _derive_score(data: dict, persona: dict, repairs: list[str]) -> None:
    """Replace an out-of-range or missing score by the weighted mean of valid sub-scores."""
    score = data.get("score")
    if isinstance(score, int) and not isinstance(score, bool) and 0 <= score <= 100:
        return
    criteria = data.get("criteria")
    weights = {c["key"]: c["weight"] for c in persona["criteria"]}
    if not isinstance(criteria, dict) or set(criteria) != set(weights):
        return  # validation will name the problem
    values = [criteria[k] for k in weights]
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100 for v in values):
        return
    data["score"] = round(sum(weights[k] * criteria[k] for k in weights) / sum(weights.values()))
    repairs.append(f"score {score!r} replaced by the weighted mean of its criteria")


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "reply"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


# Section text as a grammar may generate it: starts with a letter, no braces or quotes.
# Without it a small model writes JSON fragments ("}, ") into sections.
SECTION_PATTERN = "^[A-Za-z][A-Za-z0-9 ,.;:'()/%-]*$"


def grammar_schema(schema: dict) -> dict:
    """Tighten the schema for llama.cpp's grammar, which enforces enums and patterns only.

    0-100 integers become an enum, and section strings get SECTION_PATTERN. Validation still
    uses the plain schema: replies from other servers may quote and punctuate freely.
    """
    if isinstance(schema, dict):
        node = {k: grammar_schema(v) for k, v in schema.items()}
        if node.get("type") == "integer" and "minimum" in node and "maximum" in node:
            node["enum"] = list(range(int(node["minimum"]), int(node["maximum"]) + 1))
        if node.get("type") == "string" and "maxLength" in node:
            node["pattern"] = SECTION_PATTERN
        return node
    if isinstance(schema, list):
        return [grammar_schema(item) for item in schema]
    return schema
