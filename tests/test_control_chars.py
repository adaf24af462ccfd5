"""Control characters (C0 and DEL) are refused by name on every way in, and nothing is stored.

The corpus: each of U+0000-U+001F and U+007F inside a value, and combinations aimed at
headers and terminals ("a\\r\\nBcc: x@y"). It goes through every field of a catalog file (the
categories, the tools, their facts and evidence, keys included), the `add` flags, the admin,
every persona field, every public form, and every path segment and query parameter of the
site and the JSON API. Each value must be refused with a message naming the character (a
400 on the web) and leave the database as it was; the only exceptions are a tab or a line
break in long free text (descriptions, a persona's style brief), which are stored as given.

Counts (tried / refused safely, of them stored by design / problems) go to the security
suite's tally, printed at the end of the run.
"""

import copy
import json
from collections import defaultdict
from urllib.parse import quote, urlencode

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session

from shiporskip.catalog.loading import CatalogError, load_catalog
from shiporskip.catalog.models import Category, FactsChange, Tool
from shiporskip.cli import main
from shiporskip.community.models import Bookmark, Vote
from shiporskip.control_chars import EDGE, label
from shiporskip.newsletter.models import Subscriber
from shiporskip.panel.models import Persona
from shiporskip.panel.personas import BUNDLED_PERSONAS, PersonaError, load_personas
from tests.conftest import tool_entry

pytestmark = pytest.mark.django_db

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"]
COMBINATIONS = [
    "a\r\nBcc: x@y",
    "x\r\nSubject: spam\r\n\r\nbody",
    "\x00\x00",
    "a\x1b[31mred",
    "a\rb\nc",
    "tab\tand\x00nul",
    "\x00",
]
CORPUS = [f"a{c}b" for c in CONTROLS] + COMBINATIONS
# Where each value costs a whole admin form or CLI run, the other fields get a sample of it.
SAMPLE = ["a\rb", "a\nb", "a\tb", "a\x00b", "a\x1bb", "a\x7fb", "a\r\nBcc: x@y"]
MULTILINE = "\t\n"  # what a description or a style brief may keep


def first_bad(value: str, allow: str = "") -> str:
    return next(c for c in value if (ord(c) < 0x20 or c == "\x7f") and c not in allow)


def named(value: str, allow: str = "") -> str:
    """The words a refusal of `value` must contain."""
    return f"contains a control character ({label(first_bad(value.strip(EDGE), allow))}): remove it"


def allowed(value: str, allow: str) -> bool:
    return all(c in allow for c in value if ord(c) < 0x20 or c == "\x7f")


COUNTS = defaultdict(lambda: {"tried": 0, "refused": 0, "allowed": 0, "problems": 0})


def count(probe: str, outcome: str) -> None:
    COUNTS[probe]["tried"] += 1
    COUNTS[probe][outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def report(request):
    """Hand the counts to the security suite's tally (printed at the end of the run), or print them."""
    yield
    try:
        from tests.security_corpora import TALLY
    except ImportError:
        TALLY = None
    lines = []
    for probe, c in sorted(COUNTS.items()):
        if TALLY is not None:
            TALLY.add(
                f"control characters: {probe}",
                tried=c["tried"],
                refused=c["refused"] + c["allowed"],
                problems=c["problems"],
            )
            if c["allowed"]:
                TALLY.note(f"control characters: {probe}", "of them stored by design", c["allowed"])
        lines.append(
            f"control characters: {probe}: tried {c['tried']}, refused safely "
            f"{c['refused']}, stored by design {c['allowed']}, problems {c['problems']}"
        )
    if TALLY is None:
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print("\n" + "\n".join(lines))


# -- catalog files --------------------------------------------------------------------------

SRC = {"source": "https://example.com/page", "as_of": "2025-05-01"}
CATEGORY = {"slug": "open-weight-models", "name": "Open-Weight Models", "description": "Models."}


def full_entry(name: str = "Probe Tool") -> dict:
    """A tool with every evidence group, so every field of the schema can carry a probe."""
    return tool_entry(
        name,
        facts={
            "price": {
                **SRC,
                "currency": "USD",
                "free_tier": True,
                "free_tier_limits": "Some",
                "seat_plan": "Pro",
                "seat_monthly": 10,
                "note": "A note",
            },
            "capabilities": [{**SRC, "metric": "mmlu", "value": 70, "unit": "percent", "setup": "5-shot"}],
            "limits": {
                **SRC,
                "platforms": ["Linux"],
                "sizes": [{**SRC, "parameters": "7B", "memory_gb": 5, "quantisation": "Q4_K_M"}],
            },
            "adoption": {**SRC, "repository": "https://example.com/repo", "stars": 5, "usage": "Many"},
            "deployment": {**SRC, "data_retention": "None", "certifications": ["SOC 2"]},
            "terms": {**SRC, "commercial_use": "Allowed for any use"},
        },
    )


CATEGORY_FIELDS = [("slug",), ("name",), ("description",)]
TOOL_FIELDS = (
    [
        (f,)
        for f in (
            "name",
            "vendor",
            "category",
            "best_for",
            "description",
            "pricing",
            "entry_price",
            "license",
            "website",
        )
    ]
    + [("facts", f) for f in ("kind", "license_kind", "pricing_model", "parameters", "facts_as_of")]
    + [
        ("facts", "runtimes", 0),
        ("facts", "sources", 0),
        ("facts", "price", "note"),
        ("facts", "price", "seat_plan"),
        ("facts", "price", "currency"),
        ("facts", "price", "free_tier_limits"),
        ("facts", "price", "source"),
        ("facts", "price", "as_of"),
        ("facts", "capabilities", 0, "metric"),
        ("facts", "capabilities", 0, "setup"),
        ("facts", "capabilities", 0, "unit"),
        ("facts", "limits", "platforms", 0),
        ("facts", "limits", "sizes", 0, "parameters"),
        ("facts", "limits", "sizes", 0, "quantisation"),
        ("facts", "adoption", "usage"),
        ("facts", "adoption", "repository"),
        ("facts", "deployment", "data_retention"),
        ("facts", "deployment", "certifications", 0),
        ("facts", "terms", "commercial_use"),
    ]
)


def put(data, path, value):
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


def path_text(path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def state() -> tuple:
    """What a refused load must leave untouched."""
    return (
        list(Category.objects.order_by("pk").values()),
        list(Tool.objects.order_by("pk").values()),
        FactsChange.objects.count(),
    )


@pytest.fixture
def catalog_base(db):
    load_catalog({"categories": [CATEGORY], "tools": [full_entry("Base Tool")]})
    assert Tool.objects.filter(slug="base-tool").exists()  # the probe entry is valid as it is


def probe_load(probe: str, data: dict, path: tuple, where: str, value: str, allow: str) -> None:
    before = state()
    try:
        load_catalog(data)
    except CatalogError as exc:
        message = str(exc)
        ok = (
            not allowed(value, allow)
            and message.startswith(where)
            and f"{path_text(path)} {named(value, allow)}" in message
            and not any(c in message for c in value if ord(c) < 0x20 or c == "\x7f")
        )
        count(probe, "refused" if ok and state() == before else "problems")
        assert ok, (path, value, message)
        assert state() == before, (path, value)
        return
    count(probe, "allowed" if allowed(value, allow) else "problems")
    assert allowed(value, allow), f"{path_text(path)}: {value!r} was accepted"


def test_every_catalog_field_refuses_control_characters_by_name(catalog_base):
    for path in CATEGORY_FIELDS:
        allow = MULTILINE if path == ("description",) else ""
        for value in CORPUS:
            category = put(CATEGORY, path, value)
            probe_load(
                "catalog file: categories",
                {"categories": [category], "tools": []},
                path,
                "categories[0]",
                value,
                allow,
            )
            load_catalog({"categories": [CATEGORY], "tools": []})  # undo an allowed change
    for path in TOOL_FIELDS:
        allow = MULTILINE if path == ("description",) else ""
        for value in CORPUS:
            probe_load(
                "catalog file: tools, facts and evidence",
                {"tools": [put(full_entry(), path, value)]},
                path,
                "tools[0]",
                value,
                allow,
            )
            if allowed(value, allow):
                assert Tool.objects.get(slug="probe-tool").description == value.strip()
                Tool.objects.filter(slug="probe-tool").delete()


def test_a_key_with_a_control_character_is_refused_and_shown_escaped(catalog_base):
    for char in CONTROLS:
        entry = full_entry()
        entry["facts"]["price"][f"no{char}te"] = "x"
        before = state()
        with pytest.raises(CatalogError) as exc:
            load_catalog({"tools": [entry]})
        message = str(exc.value)
        assert f"facts.price.no\\x{ord(char):02x}te contains a control character ({label(char)})" in message
        assert char not in message and state() == before
        count("catalog file: keys", "refused")
    # Outer whitespace is stripped, not refused: a YAML folded scalar ends in a line break its
    # writer never sees.
    load_catalog({"tools": [full_entry("Folded") | {"best_for": "Long text\n", "pricing": "\tFree "}]})
    tool = Tool.objects.get(slug="folded")
    assert (tool.best_for, tool.pricing) == ("Long text", "Free")


def test_catalog_load_of_a_file_with_a_nul_says_so_and_loads_nothing(catalog_base, tmp_path, capsys):
    """On PostgreSQL the NUL used to reach the INSERT: a traceback, status 1."""
    for i, char in enumerate(CONTROLS):
        path = tmp_path / f"catalog{i}.json"
        data = {"categories": [CATEGORY], "tools": [full_entry(f"Nul{char}Tool")]}
        path.write_text(json.dumps(data))
        before = state()
        assert main(["catalog", "load", str(path)]) == 2
        err = capsys.readouterr().err
        assert f"tools[0]: name contains a control character ({label(char)}): remove it" in err
        assert [line for line in err.splitlines() if "error" in line] == [
            f"shiporskip: error: tools[0]: name contains a control character ({label(char)}): remove it"
        ]
        assert state() == before
        count("catalog load (CLI, JSON file)", "refused")
    path = tmp_path / "escaped.yaml"  # YAML spells them as escapes in a double-quoted string
    path.write_text('tools:\n- name: "Bad\\r\\nName"\n  category: open-weight-models\n  facts: {}\n')
    assert main(["catalog", "load", str(path)]) == 2
    assert "name contains a control character (U+000D CR)" in capsys.readouterr().err
    count("catalog load (CLI, JSON file)", "refused")


def test_add_flags_refuse_control_characters_by_flag(catalog_base, capsys):
    flags = {
        "name": "Flag Tool",
        "category": "open-weight-models",
        "kind": "model",
        "source": "https://example.com",
        "vendor": "Acme",
        "best-for": "Tests",
        "description": "Text",
        "pricing": "Free",
        "entry-price": "Free",
        "license": "MIT",
        "website": "https://example.com",
        "facts-as-of": "2025-01-01",
        "fact": "parameters=7B",
    }
    for flag in flags:
        for value in CORPUS if flag in {"name", "description", "fact"} else SAMPLE:
            argv = ["add"]
            for name, given in flags.items():
                argv += [f"--{name}", value if name == flag else given]
            before = state()
            code = main(argv)
            err = capsys.readouterr().err
            allow = MULTILINE if flag == "description" else ""
            if allowed(value, allow):
                assert code == 0, err
                assert Tool.objects.get(slug="flag-tool").description == value
                Tool.objects.filter(slug="flag-tool").delete()
                count("add flags", "allowed")
                continue
            ok = code == 2 and f"--{flag} {named(value, allow)}" in err and state() == before
            count("add flags", "refused" if ok else "problems")
            assert ok, (flag, value, err)


# -- the admin ------------------------------------------------------------------------------


def tool_form(tool, **changes) -> dict:
    form = {
        "name": tool.name,
        "slug": tool.slug,
        "vendor": tool.vendor,
        "category": tool.category_id,
        "best_for": tool.best_for,
        "description": tool.description,
        "pricing": tool.pricing,
        "entry_price": tool.entry_price,
        "license": tool.license,
        "website": tool.website,
        "facts": json.dumps(tool.facts),
        "facts_changes-TOTAL_FORMS": 0,
        "facts_changes-INITIAL_FORMS": 0,
    }
    return {**form, **changes}


def test_the_admin_refuses_control_characters_in_tools_and_categories(admin_client, catalog_base):
    tool = Tool.objects.get(slug="base-tool")
    url = f"/admin/catalog/tool/{tool.pk}/change/"
    cases = (
        [("name", value) for value in CORPUS]
        + [(field, value) for field in ("vendor", "best_for", "pricing", "license") for value in SAMPLE]
        + [("facts", json.dumps({**tool.facts, "parameters": value})) for value in CORPUS]
    )
    for field, value in cases:
        before = state()
        response = admin_client.post(url, tool_form(tool, **{field: value}))
        page = response.content.decode()
        raw = json.loads(value)["parameters"] if field == "facts" else value
        ok = (
            response.status_code == 200
            and state() == before
            and ("control character" in page or "Null characters are not allowed" in page)
        )
        count("admin: tool and category forms", "refused" if ok else "problems")
        assert ok, (field, raw)
    # A description is a text area: the browser sends CRLF, and line breaks are kept.
    response = admin_client.post(url, tool_form(tool, description="One.\r\nTwo.\tThree."))
    assert response.status_code == 302
    assert Tool.objects.get(pk=tool.pk).description == "One.\r\nTwo.\tThree."
    count("admin: tool and category forms", "allowed")
    response = admin_client.post(url, tool_form(tool, description="One.\x1bTwo."))
    assert "control character (U+001B ESC)" in response.content.decode()
    count("admin: tool and category forms", "refused")
    category = Category.objects.get()
    response = admin_client.post(
        f"/admin/catalog/category/{category.pk}/change/",
        {"name": "Open\rWeight", "slug": category.slug, "description": ""},
    )
    assert "control character (U+000D CR)" in response.content.decode()
    assert Category.objects.get().name == category.name
    count("admin: tool and category forms", "refused")


def test_the_admin_refuses_control_characters_in_personas(admin_client, db):
    load_personas()
    persona = Persona.objects.get(key="builder")
    base = {
        f: getattr(persona, f)
        for f in ("key", "name", "lens", "motto", "style_brief", "summary_section", "ship_threshold", "order")
    }
    base |= {f: json.dumps(getattr(persona, f)) for f in ("excites", "tires", "sections", "criteria")}
    base["active"] = "on"
    url = f"/admin/panel/persona/{persona.pk}/change/"
    snapshot = list(Persona.objects.values())
    sections = persona.sections
    for field, value in [
        ("name", "Buil\rder"),
        ("lens", "a\x00b"),
        ("motto", "a\x1bb"),
        ("style_brief", "a\x07b"),
        ("sections", json.dumps([{**sections[0], "title": "T\r\nBcc: x"}, *sections[1:]])),
    ]:
        response = admin_client.post(url, {**base, field: value})
        page = response.content.decode()
        ok = (
            response.status_code == 200
            and list(Persona.objects.values()) == snapshot
            and ("control character" in page or "Null characters are not allowed" in page)
        )
        count("admin: persona form", "refused" if ok else "problems")
        assert ok, (field, value)
    assert "sections[0].title contains a control character (U+000D CR)" in page


# -- persona files --------------------------------------------------------------------------

PERSONA_FIELDS = [
    ("key",),
    ("name",),
    ("lens",),
    ("motto",),
    ("style_brief",),
    ("excites", 0),
    ("tires", 0),
    ("summary_section",),
    ("sections", 0, "key"),
    ("sections", 0, "title"),
    ("sections", 0, "question"),
    ("criteria", 0, "key"),
    ("criteria", 0, "label"),
    ("criteria", 0, "anchors", "20"),
]


def test_every_persona_field_refuses_control_characters_by_name(db, tmp_path):
    load_personas()
    data = yaml.safe_load(BUNDLED_PERSONAS.read_text())
    data["personas"] = data["personas"][:1]  # the first persona carries every probe
    # Text keys, as the admin's JSON gives them: the path then reads criteria[0].anchors.20.
    data["personas"][0]["criteria"][0]["anchors"] = {"20": "Low", "50": "Mid", "80": "High"}
    data["personas"][0].setdefault("excites", ["x"])
    data["personas"][0].setdefault("tires", ["x"])
    snapshot = list(Persona.objects.order_by("pk").values())
    path = tmp_path / "personas.yaml"
    for field in PERSONA_FIELDS:
        allow = MULTILINE if field == ("style_brief",) else ""
        for value in CORPUS:
            probe = put(data, ("personas", 0, *field), value)
            path.write_text(yaml.safe_dump(probe, allow_unicode=True))
            try:
                load_personas(path)
            except PersonaError as exc:
                message = str(exc)
                ok = (
                    f"personas[0]: {path_text(field)} {named(value, allow)}" in message
                    and list(Persona.objects.order_by("pk").values()) == snapshot
                )
                count("persona files", "refused" if ok else "problems")
                assert ok, (field, value, message)
                continue
            count("persona files", "allowed" if allowed(value, allow) else "problems")
            assert allowed(value, allow), (field, value)
            assert Persona.objects.get(key="builder").style_brief == value
            load_personas()  # back to the bundled panel


# -- public forms ---------------------------------------------------------------------------


@pytest.fixture
def site(personas):
    load_catalog({"categories": [CATEGORY], "tools": [tool_entry("Probe Tool"), tool_entry("Other Tool")]})
    get_user_model().objects.create_user("member@example.com", "member@example.com", "a long passphrase 42")


def stored() -> tuple:
    return (
        get_user_model().objects.count(),
        Subscriber.objects.count(),
        Vote.objects.count(),
        Bookmark.objects.count(),
        Session.objects.count(),
    )


FORMS = {
    "/accounts/signup": {
        "email": "new@example.com",
        "password1": "a long passphrase 42",
        "password2": "a long passphrase 42",
    },
    "/accounts/signin": {"username": "member@example.com", "password": "a long passphrase 42"},
    "/accounts/reset": {"email": "member@example.com"},
    "/newsletter/subscribe": {"email": "reader@example.com"},
    "/tools/probe-tool/vote": {"verdict": "ship", "next": "/tools/probe-tool"},
    "/tools/probe-tool/bookmark": {"bookmarked": "1", "next": "/tools/probe-tool"},
    # Forms behind a token: refused before the token is even looked at.
    "/accounts/signup/finish/TOKEN": {
        "password1": "a long passphrase 42",
        "password2": "a long passphrase 42",
    },
    "/accounts/reset/MQ/set-password": {
        "new_password1": "a long passphrase 42",
        "new_password2": "a long passphrase 42",
    },
}


def test_every_public_form_refuses_control_characters_with_400(client, site):
    for url, fields in FORMS.items():
        for field in fields:
            for value in CORPUS:
                before = stored()
                response = client.post(url, {**fields, field: value})
                page = response.content.decode()
                ok = (
                    response.status_code == 400
                    and f"The form field “{field}” {named(value)}" in page
                    and stored() == before
                )
                count("public forms", "refused" if ok else "problems")
                assert ok, (url, field, value, response.status_code)


def test_a_refusal_answers_in_the_form_the_client_asked_for(client, site):
    url, data = "/newsletter/subscribe", {"email": "a\r\nBcc: x@y"}
    as_json = client.post(url, data, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400 and as_json.json() == {
        "error": "The form field “email” contains a control character (U+000D CR): remove it."
    }
    fragment = client.post(url, data, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 400 and fragment.content.decode().startswith('<p class="error"')
    page = client.post(url, data)
    assert page.status_code == 400 and "<title>Bad request" in page.content.decode()
    assert "no-cache" in page["Cache-Control"] and not Subscriber.objects.exists()
    api = client.get("/api/tools/%00")
    assert api.status_code == 400 and api.json() == {
        "detail": "The address contains a control character (U+0000 NUL): remove it."
    }
    count("public forms", "refused")
    count("public forms", "refused")
    count("public forms", "refused")
    count("paths and query parameters", "refused")


# -- addresses: path segments and query parameters --------------------------------------------

PATHS = [
    "/tools/{}",
    "/categories/{}",
    "/compare/{}",
    "/compare/probe-tool-vs-{}",
    "/panel/{}",
    "/tools/{}/vote",
    "/tools/{}/bookmark",
    "/newsletter/confirm/{}",
    "/newsletter/unsubscribe/{}",
    "/newsletter/{}",
    "/accounts/reset/{}/set-password",
    "/accounts/signup/finish/{}",
    "/admin/catalog/tool/{}/change/",
    "/{}",
    "/api/tools/{}",
    "/api/tools/{}/history",
    "/api/tools/{}/facts-history",
    "/api/compare/{}/probe-tool",
    "/api/compare/probe-tool/{}",
]
QUERIES = [
    ("/", "q"),
    ("/api/tools", "category"),
    ("/compare/", "a"),
    ("/compare/", "b"),
    ("/panel/builder", "category"),
    ("/me", "tools"),
    ("/tools/probe-tool/vote", "verdict"),
    ("/tools/probe-tool/bookmark", "next"),
    ("/newsletter/subscribe", "email"),
    ("/accounts/signup", "next"),
    ("/accounts/signin", "next"),
    ("/bookmarks", "x"),
    ("/api/personas", "x"),
    ("/admin/catalog/tool/", "q"),
    ("/admin/login/", "next"),
]


def refused(response, where: str, value: str) -> bool:
    body = response.content.decode()
    if response.status_code != 400:
        return False
    return f"{where} {named(value)}" in (
        response.json()["detail"] if response["Content-Type"].startswith("application/json") else body
    )


def test_every_path_segment_refuses_control_characters_with_400(client, site):
    for template in PATHS:
        for value in CORPUS:
            ok = refused(client.get(template.format(quote(value, safe=""))), "The address", value)
            count("paths and query parameters", "refused" if ok else "problems")
            assert ok, (template, value)
    # A POST to such an address too: nothing is stored.
    before = stored()
    response = client.post("/tools/probe%00tool/vote", {"verdict": "ship"})
    assert response.status_code == 400 and stored() == before
    count("paths and query parameters", "refused")


def test_every_query_parameter_refuses_control_characters_with_400(admin_client, site):
    for path, key in QUERIES:
        for value in CORPUS:
            url = f"{path}?{urlencode({key: value})}"
            ok = refused(admin_client.get(url), f"The query parameter “{key}”", value)
            count("paths and query parameters", "refused" if ok else "problems")
            assert ok, (url, value)
    response = admin_client.get("/api/tools?" + urlencode({"cat\x00egory": "x"}))
    assert response.status_code == 400 and "“cat\\x00egory”" in response.json()["detail"]
    count("paths and query parameters", "refused")
    # Clean addresses and forms still answer as before.
    assert admin_client.get("/api/tools?category=open-weight-models").status_code == 200
    assert admin_client.get("/compare/?a=probe-tool&b=other-tool").status_code == 302
    assert admin_client.post("/newsletter/subscribe", {"email": "fine@example.com"}).status_code == 200
