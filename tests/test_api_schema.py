"""Every API answer has a type in /api/openapi.json (and so in /api/docs): its 200 body and each
error it documents, down to the fields of every object, so no answer is an untyped dict."""

import pytest

from shiporskip.api.views import api

ERRORS = {"400", "404"}  # answered by the view or the middleware, as JSON {"detail": ...}


@pytest.fixture
def schema(client) -> dict:
    """The schema as served (and as /api/docs reads it)."""
    return client.get("/api/openapi.json").json()


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            yield f"{method.upper()} {path}", op


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def untyped(schema: dict, node: dict, where: str, seen: set) -> list[str]:
    """Where an object in a response schema says nothing of its fields or values."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
    node = resolve(schema, node)
    found = []
    if (
        node.get("type") == "object"
        and not node.get("properties")
        and node.get("additionalProperties") in (None, True, {})
    ):
        found.append(where)
    for key, sub in node.get("properties", {}).items():
        found += untyped(schema, sub, f"{where}.{key}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            found += untyped(schema, node[key], f"{where}[]", seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key, []):
            found += untyped(schema, sub, where, seen)
    return found


def test_every_operation_has_a_typed_200(schema):
    served = schema
    assert served["paths"].keys() == api.get_openapi_schema(path_prefix="/api")["paths"].keys()
    for name, op in operations(served):
        body = op["responses"]["200"]["content"]["application/json"]["schema"]
        resolved = resolve(served, body)
        assert resolved.get("type") in {"object", "array"}, name
        if resolved["type"] == "array":
            assert resolve(served, resolved["items"]).get("properties"), name
        assert untyped(served, body, name, set()) == [], name


def test_every_documented_error_has_a_body_schema(schema):
    for name, op in operations(schema):
        codes = set(op["responses"])
        assert "400" in codes and "414" in codes, name  # control characters; the web server
        for code in codes & ERRORS:
            body = resolve(schema, op["responses"][code]["content"]["application/json"]["schema"])
            assert body["properties"].keys() == {"detail"}, (name, code)
            assert body["properties"]["detail"]["type"] == "string", (name, code)
        assert op["responses"]["414"]["content"]["text/html"]["schema"] == {"type": "string"}, name
    unknown_slug = {name for name, op in operations(schema) if "{" in name}
    assert unknown_slug and all("404" in dict(operations(schema))[n]["responses"] for n in unknown_slug)
