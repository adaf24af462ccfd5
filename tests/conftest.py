"""Shared fixtures: the real database, the bundled personas, and named tools built inline."""

import copy
import os

import pytest
from django.db import connections
from huey.contrib.djhuey import HUEY

from shiporskip.catalog.loading import load_bundled, load_catalog
from shiporskip.catalog.models import Tool
from shiporskip.panel.personas import load_personas
from shiporskip.panel.running import review_tool
from tests.smtp import smtp, smtp_server  # noqa: F401 - a real SMTP server for every test that sends mail

# Queued tasks run inline in tests; the real worker is exercised by tests/test_up.py.
HUEY.immediate = True

FACTS = {
    "kind": "model", "open_weights": True, "license_kind": "permissive",
    "pricing_model": "free", "self_hostable": True, "parameters": "7B",
    "context_window": 32768, "runtimes": ["Ollama", "llama.cpp"], "api_available": False,
    "release_year": 2024, "facts_as_of": "2025-06-01",
    "sources": ["https://example.com/model-card"],
}


def tool_entry(name: str, category: str = "open-weight-models", **overrides) -> dict:
    """A valid catalog entry for a tool, with facts overridable by keyword."""
    facts = copy.deepcopy(FACTS)
    facts.update(overrides.pop("facts", {}))
    entry = {"name": name, "vendor": "Acme", "category": category,
             "best_for": f"Testing {name}", "description": f"{name} is a test model.",
             "pricing": "Free", "entry_price": "Free", "license": "Apache 2.0",
             "website": "https://example.com", "facts": facts}
    return {**entry, **overrides}


@pytest.fixture
def personas(db):
    load_personas()


@pytest.fixture
def catalog(personas):
    load_bundled()


@pytest.fixture
def reviewed(catalog):
    """The bundled catalog with every tool reviewed by the offline panel."""
    for tool in Tool.objects.select_related("category"):
        review_tool(tool=tool, model="offline")


@pytest.fixture
def seed_pair(personas):
    """The two tools of the seed page, reviewed: code-llama-4 and mistral-3-small-22b."""
    from shiporskip.catalog.loading import BUNDLED_CATALOG, read_file

    data = read_file(BUNDLED_CATALOG)
    wanted = {"Code Llama 4", "Mistral 3 Small (22B)"}
    load_catalog({"categories": data["categories"],
                  "tools": [t for t in data["tools"] if t["name"] in wanted]})
    tools = list(Tool.objects.select_related("category").order_by("slug"))
    for tool in tools:
        review_tool(tool=tool, model="offline")
    return tools


def panel_label(slug: str) -> str:
    """The tally the panel's stored reviews give a tool: pages must show it, whatever it is."""
    return Tool.objects.with_panel().get(slug=slug).panel.label


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser():
    """Real chromium through Playwright (Debian's build, installed by scripts/test)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium")
    # Playwright runs an event loop in this thread; the ORM calls are ours, made before it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        # ORM calls made while Playwright's loop runs get their own connection: close it
        # while that loop still runs, or PostgreSQL refuses to drop the test database.
        connections.close_all()
        browser.close()


def pytest_terminal_summary(terminalreporter):
    """The security probes' counts (tried / refused safely / problems), for the security note."""
    from tests.security_corpora import TALLY

    lines = TALLY.lines()
    if lines:
        terminalreporter.section("security probes")
        for line in lines:
            terminalreporter.write_line(line)
