"""The XSS corpus through every publisher field, rendered in real chromium.

Every payload of tests/security_corpora.py goes into every field a publisher writes (catalog
file: tool, evidence and category fields; persona file: every persona field; a reviewer's
review text) through the same loaders the CLI uses, then every page that shows them is
loaded in chromium: tool, comparison, category, persona, home, the admin's change pages and
the newsletter edition (on the site and as the email's HTML). A payload that runs (a dialog,
`window.xss`), appears unescaped in the raw HTML, leaves an event handler, a `javascript:`
link or a frame in the DOM, or gets evaluated as a template is a problem.

The browser ignores the Content-Security-Policy (`bypass_csp`): the pages must be safe by
escaping alone, the CSP being a second line.

Payloads are spread so that each page load checks many at once: tool j gets payload j+k in
its k-th field, so across the tools every payload passes through every field once; long text
(descriptions, style briefs, review sections) holds the whole corpus on every page.
"""

import copy
import datetime
from urllib.parse import urlencode

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.test import Client

from shiporskip import control_chars
from shiporskip.catalog.loading import CatalogError, load_catalog, parse_tools
from shiporskip.catalog.models import Category, Tool
from shiporskip.newsletter import editions, emails
from shiporskip.newsletter.models import Subscriber
from shiporskip.panel.models import PanelRun, Persona, Review
from shiporskip.panel.personas import BUNDLED_PERSONAS, PersonaSpec, load_personas
from shiporskip.panel.running import review_tool
from tests.security_corpora import DOM_PROBE, EVALUATED, TALLY, XSS, XSS_URLS, unescaped

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROBE = "xss corpus (payload x field)"
N = len(XSS)
S = "https://example.com/evidence"
D = "2025-06-01"

# Every text field of a tool a catalog file sets, by its path in the entry.
TOOL_TEXT = [
    ("vendor",),
    ("best_for",),
    ("pricing",),
    ("entry_price",),
    ("license",),
    ("facts", "parameters"),
    ("facts", "runtimes", 0),
    ("facts", "price", "free_tier_limits"),
    ("facts", "price", "seat_plan"),
    ("facts", "price", "token_model"),
    ("facts", "price", "note"),
    ("facts", "capabilities", 0, "setup"),
    ("facts", "limits", "platforms", 0),
    ("facts", "limits", "sizes", 0, "parameters"),
    ("facts", "limits", "sizes", 0, "quantisation"),
    ("facts", "adoption", "usage"),
    ("facts", "deployment", "data_retention"),
    ("facts", "deployment", "certifications", 0),
    ("facts", "terms", "commercial_use"),
]
# Every URL field of a tool: each one gets the URL corpus, and the text corpus too.
TOOL_URLS = [
    ("website",),
    ("facts", "sources", 0),
    ("facts", "price", "source"),
    ("facts", "capabilities", 0, "source"),
    ("facts", "limits", "source"),
    ("facts", "limits", "sizes", 0, "source"),
    ("facts", "adoption", "source"),
    ("facts", "adoption", "repository"),
    ("facts", "adoption", "users_source"),
    ("facts", "deployment", "source"),
    ("facts", "terms", "source"),
]
PERSONA_TEXT = ["name", "lens", "motto"]


def base_tool(j: int) -> dict:
    """A tool of kind `api` with every evidence group, so that every field is shown."""
    return {
        "name": f"T{j}",
        "vendor": "Acme",
        "category": f"c{j}",
        "best_for": "x",
        "description": "",
        "pricing": "x",
        "entry_price": "x",
        "license": "x",
        "website": S,
        "facts": {
            "kind": "api",
            "pricing_model": "usage",
            "api_available": True,
            "facts_as_of": D,
            "parameters": "7B",
            "context_window": 32768,
            "runtimes": ["x"],
            "sources": [S],
            "price": {
                "source": S,
                "as_of": D,
                "free_tier": True,
                "free_tier_limits": "x",
                "seat_monthly": 10,
                "seat_plan": "x",
                "input_per_mtok": 1,
                "output_per_mtok": 2,
                "token_model": "x",
                "note": "x",
            },
            "capabilities": [
                {"source": S, "as_of": D, "metric": "humaneval", "value": 80, "unit": "percent", "setup": "x"}
            ],
            "limits": {
                "source": S,
                "as_of": D,
                "max_output_tokens": 4096,
                "gpu_required": False,
                "platforms": ["x"],
                "sizes": [{"source": S, "as_of": D, "parameters": "7B", "memory_gb": 8, "quantisation": "x"}],
            },
            "adoption": {
                "source": S,
                "as_of": D,
                "repository": S,
                "stars": 10,
                "users": 100,
                "users_source": S,
                "users_as_of": D,
                "usage": "x",
            },
            "deployment": {
                "source": S,
                "as_of": D,
                "cloud": True,
                "data_retention": "x",
                "certifications": ["x"],
            },
            "terms": {"source": S, "as_of": D, "commercial_use": "xxx"},
        },
    }


def put(entry: dict, path: tuple, value: str) -> dict:
    out = copy.deepcopy(entry)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def fit(entry: dict, placements: list[tuple[tuple, str]], validate) -> tuple[dict, int]:
    """Put each payload in its field, keeping those the loader accepts; count the refused."""
    refused = 0
    for path, payload in placements:
        trial = put(entry, path, payload)
        try:
            validate(trial)
        except (CatalogError, ValueError):
            refused += 1
            continue
        entry = trial
    return entry, refused


def publisher_catalog() -> tuple[dict, int, int]:
    """One category and one tool per payload; returns the catalog, placements and refusals."""
    everything = " ".join(XSS)
    tools, categories, tried, refused = [], [], 0, 0
    for j in range(N):
        placements = [(("name",), f"T{j} {XSS[j]}")]
        placements += [(path, XSS[(j + 1 + k) % N]) for k, path in enumerate(TOOL_TEXT)]
        placements += [(path, XSS_URLS[(j + k) % len(XSS_URLS)]) for k, path in enumerate(TOOL_URLS)]
        placements += [(path, XSS[(j + 7 + k) % N]) for k, path in enumerate(TOOL_URLS)]
        entry, n = fit({**base_tool(j), "description": everything}, placements, lambda e: parse_tools([e]))
        tools.append(entry)
        tried, refused = tried + len(placements) + N, refused + n  # + N: the description
        category = {"slug": f"c{j}", "name": f"C{j} {XSS[(j + 3) % N]}", "description": everything}
        categories.append(category)
        tried += 1 + N
    return {"categories": categories, "tools": tools}, tried, refused


def publisher_personas() -> tuple[list[dict], int, int]:
    """The bundled four with every field a payload, and inactive ones to carry the rest."""
    bundled = yaml.safe_load(BUNDLED_PERSONAS.read_text())["personas"]
    out, tried, refused = [], 0, 0
    for j in range(N):
        base = (
            copy.deepcopy(bundled[j])
            if j < len(bundled)
            else {**copy.deepcopy(bundled[0]), "key": f"extra{j}", "active": False}
        )
        base.update(style_brief=" ".join(XSS), excites=list(XSS), tires=list(XSS))
        tried += 3 * N
        placements = [((field,), XSS[(j + k) % N]) for k, field in enumerate(PERSONA_TEXT)]
        for i in range(len(base["sections"])):
            placements += [
                (("sections", i, "title"), XSS[(j + 3 + i) % N]),
                (("sections", i, "question"), XSS[(j + 9 + i) % N]),
            ]
        for i in range(len(base["criteria"])):
            placements.append((("criteria", i, "label"), XSS[(j + 15 + i) % N]))
        persona, n = fit(base, placements, PersonaSpec.model_validate)
        out.append(persona)
        tried, refused = tried + len(placements), refused + n
    return out, tried, refused


def reviewer_text() -> int:
    """A reviewer (an LLM can write anything) writes the whole corpus into every section."""
    everything = " ".join(XSS)
    reviews = list(Review.objects.all())
    for review in reviews:
        review.sections = {key: everything for key in review.sections}
    Review.objects.bulk_update(reviews, ["sections"])
    return len(reviews) * N


@pytest.fixture
def published(tmp_path):
    """The corpus stored through the publisher's own ways in; the tally of what was refused."""
    people, p_tried, p_refused = publisher_personas()
    path = tmp_path / "personas.yaml"
    path.write_text(yaml.safe_dump({"personas": people}, allow_unicode=True), encoding="utf-8")
    load_personas(path)
    catalog, c_tried, c_refused = publisher_catalog()
    load_catalog(catalog)
    for tool in Tool.objects.select_related("category"):
        review_tool(tool=tool, model="offline")
    r_tried = reviewer_text()
    Subscriber.objects.create(
        email="reader@example.com",
        status=Subscriber.Status.CONFIRMED,
        confirmed_at=datetime.datetime.now(datetime.UTC),
    )
    edition = editions.publish()
    assert edition is not None
    tried, refused = p_tried + c_tried + r_tried, p_refused + c_refused
    TALLY.note(PROBE, "refused at input", refused)
    return {"edition": edition, "tried": tried, "refused": refused}


class Checker:
    """Loads pages in one chromium page and collects every sign of a payload at work."""

    def __init__(self, context):
        self.page = context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)
        self.problems: list[str] = []
        self.loads = 0

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visit(self, url: str, *, status: int = 200):
        response = self.page.goto(url)
        assert response is not None and response.status == status, f"{url}: {response and response.status}"
        self.inspect(url, response.text())

    def show(self, label: str, html: str):
        """An email's HTML, rendered as a mail client that runs nothing would not: as a page."""
        self.page.set_content(html)
        self.inspect(label, html)

    def inspect(self, where: str, html: str):
        self.loads += 1
        # Events queued by the parse (ontoggle, onerror of a failed image) run before we look:
        # failed images hold back "load", and a frame plus a task lets what they queued run.
        self.page.wait_for_load_state("load")
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
        self.problems += [f"{where}: dialog {m!r}" for m in self.dialogs]
        self.dialogs.clear()
        self.problems += [f"{where}: unescaped {p!r}" for p in unescaped(html, XSS + XSS_URLS)]
        self.problems += [f"{where}: DOM {x}" for x in self.page.evaluate(DOM_PROBE)]
        if EVALUATED in html:
            self.problems.append(f"{where}: a template expression was evaluated ({EVALUATED})")


def test_xss_corpus_is_inert_on_every_page(published, live_server, browser):
    base = live_server.url
    tools = list(Tool.objects.order_by("pk"))
    public = browser.new_context(bypass_csp=True)
    site = Checker(public)
    for tool in tools:
        site.visit(base + tool.get_absolute_url())
    for left, right in zip(tools[::2], tools[1::2], strict=False):
        site.visit(f"{base}/compare/{min(left.slug, right.slug)}-vs-{max(left.slug, right.slug)}")
    for category in Category.objects.all():
        site.visit(base + category.get_absolute_url())
    for persona in Persona.objects.all():
        site.visit(base + persona.get_absolute_url())
    site.visit(base + "/panel/")
    # The picker (every tool's name in a <select>), answering a 404 that echoes what it got.
    reflected = XSS[:8]
    for payload in reflected:
        site.visit(f"{base}/compare/?{urlencode({'a': payload, 'b': tools[0].slug})}", status=404)
    site.visit(base + "/")
    edition = published["edition"]
    site.visit(f"{base}/newsletter/{edition.number}")
    site.visit(f"{base}/newsletter/")
    message = emails.edition(edition, Subscriber.objects.get())
    site.show("edition email (HTML part)", message.alternatives[0][0])

    admin = browser.new_context(bypass_csp=True)
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "a long passphrase")
    client = Client()
    client.force_login(user)
    admin.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    staff = Checker(admin)

    # Every tool's change page (our facts JSON and its history inline); for categories and
    # personas, Django's own forms, the changelist (every name) and every seventh change page.
    def every_seventh(model):
        return list(model.objects.order_by("pk").values_list("pk", flat=True))[::7]

    for model, pks in [
        ("catalog/tool", [t.pk for t in tools]),
        ("catalog/category", every_seventh(Category)),
        ("panel/persona", every_seventh(Persona)),
        ("panel/panelrun", every_seventh(PanelRun)[:3]),
        ("newsletter/edition", [edition.pk]),
    ]:
        staff.visit(f"{base}/admin/{model}/")
        for pk in pks:
            staff.visit(f"{base}/admin/{model}/{pk}/change/")
    public.close()
    admin.close()

    problems = site.problems + staff.problems
    tried = published["tried"] + len(reflected)
    # Refused at input or rendered inert: everything that was not a problem.
    TALLY.add(PROBE, tried=tried, refused=tried - len(problems), problems=len(problems))
    TALLY.note(PROBE, "chromium page loads", site.loads + staff.loads)
    assert not problems, "\n".join(problems[:40])


def test_every_url_field_refuses_script_schemes():
    """`javascript:` and friends never become a link: the loader refuses them in every URL field."""
    schemes = [p for p in XSS_URLS if not p.lstrip().lower().startswith(("http://", "https://"))]
    accepted = []
    for path in TOOL_URLS:
        for payload in schemes:
            try:
                parse_tools([put(base_tool(0), path, payload)])
            except CatalogError:
                continue
            accepted.append(f"{control_chars.path_text(path)} = {payload!r}")
    TALLY.add(
        "javascript:/data:/scheme-relative URLs (field x URL)",
        tried=len(TOOL_URLS) * len(schemes),
        refused=len(TOOL_URLS) * len(schemes) - len(accepted),
        problems=len(accepted),
    )
    assert not accepted, "\n".join(accepted)


def test_the_checker_sees_a_payload_at_work(browser):
    """The same checks on a page that does not escape: each kind of sign is caught."""
    context = browser.new_context(bypass_csp=True)
    checker = Checker(context)
    raw = XSS[0] + XSS[3] + XSS[11] + XSS_URLS[6].replace("https://", '<a href="https://') + "{{7*7191}}"
    checker.show("unescaped page", f"<p>{raw.replace('{{7*7191}}', EVALUATED)}</p>")
    context.close()
    found = "\n".join(checker.problems)
    assert "dialog '1'" in found and "window.xss=4" in found and "DOM IMG onerror" in found
    assert f"unescaped {XSS[11]!r}" in found and EVALUATED in found
