"""Shared fixtures: the real database, the bundled personas, and named tools built inline."""

import copy
import os
import tempfile
import time
from pathlib import Path

import pytest
from django.contrib.staticfiles import handlers
from django.db import connections
from huey.contrib.djhuey import HUEY

from shiporskip.catalog.loading import load_bundled, load_catalog
from shiporskip.catalog.models import Tool
from shiporskip.conf import prepare_data_dir
from shiporskip.panel.personas import load_personas
from shiporskip.panel.running import review_tool
from tests.smtp import smtp, smtp_server  # noqa: F401 - a real SMTP server for every test that sends mail

# Queued tasks run inline in tests; the real worker is exercised by tests/test_up.py.
HUEY.immediate = True

FACTS = {
    "kind": "model",
    "open_weights": True,
    "license_kind": "permissive",
    "pricing_model": "free",
    "self_hostable": True,
    "parameters": "7B",
    "context_window": 32768,
    "runtimes": ["Ollama", "llama.cpp"],
    "api_available": False,
    "release_year": 2024,
    "facts_as_of": "2025-06-01",
    "sources": ["https://example.com/model-card"],
}


def tool_entry(name: str, category: str = "open-weight-models", **overrides) -> dict:
    """A valid catalog entry for a tool, with facts overridable by keyword."""
    facts = copy.deepcopy(FACTS)
    facts.update(overrides.pop("facts", {}))
    entry = {
        "name": name,
        "vendor": "Acme",
        "category": category,
        "best_for": f"Testing {name}",
        "description": f"{name} is a test model.",
        "pricing": "Free",
        "entry_price": "Free",
        "license": "Apache 2.0",
        "website": "https://example.com",
        "facts": facts,
    }
    return {**entry, **overrides}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config, specs):
    """In a parallel run (pytest -n, scripts/test), give each worker a data dir of its own.

    The queue, mail files, backups and the SQLite test database live there: shared, one
    worker's test would flush or read another's. Set in the worker's environment, as the
    settings read it at import (pytest-django imports them before any conftest runs).
    """
    base = Path(os.environ.get("SHIPORSKIP_DATA_DIR") or tempfile.mkdtemp(prefix="shiporskip-test-"))
    for number, spec in enumerate(specs):
        own = base / f"worker{number}"
        own.mkdir(mode=0o700, parents=True, exist_ok=True)  # the queue opens its file at import
        spec.env.setdefault("SHIPORSKIP_DATA_DIR", str(own))


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Fail at once when `--dist loadgroup` would not keep a group on one worker.

    xdist groups a test by the "@group" it adds to the test's node id in a worker. pytest 9.2
    reads node ids from a new field, so that suffix was silently lost and the real-model tests
    ran on both workers, two llama.cpp servers fighting over 2 cores for 14 minutes
    (pytest-dev/pytest-xdist#1386; pyproject.toml keeps pytest below 9.2 until xdist follows).
    """
    result = yield
    if getattr(config.option, "loadgroup", False):
        lost = [
            item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid
        ]
        if lost:
            raise pytest.UsageError(
                f"--dist loadgroup is not grouping {lost[0]} (and {len(lost) - 1} more): this pytest and "
                "pytest-xdist do not work together (pytest-dev/pytest-xdist#1386). Install what "
                "pyproject.toml asks for: scripts/test does."
            )
    return result


class FakeClock:
    """A clock that moves only when a test moves it: where a window starts and ends is exact."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def rate_clock(monkeypatch):
    """The rate limiter's clock, stopped at the start of today (UTC), which starts every window.

    On the wall clock, a test that crossed a minute boundary found its counts split over two
    windows; stopped, a test sees one window until it calls `rate_clock.advance`.
    """
    from shiporskip.community import ratelimit

    clock = FakeClock(time.time() // 86400 * 86400)
    monkeypatch.setattr(ratelimit, "clock", clock)
    return clock


@pytest.fixture(scope="session", autouse=True)
def static_files():
    """collectstatic into the data dir, as `shiporskip up` runs it: pages link the hashed files."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    # pytest-django's live_server answers /static/ itself, from the finders, which know only the
    # plain names: hand those requests to the site's own whitenoise, as in production.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handlers, "StaticFilesHandler", AppServesStatic)
        yield


@pytest.fixture(scope="session", autouse=True)
def live_server_backlog():
    """A listen backlog for pytest-django's live_server as deep as the readers a test sends at
    once. Django's development server listens with 10: 24 readers over real HTTP
    (test_vote_concurrency.py) overflowed it about 20 times a run (the kernel's
    TcpExtListenOverflows), each a dropped handshake retried, and on a loaded machine once a
    reset connection. The site itself is served by granian, whose backlog is 1024."""
    from django.core.servers.basehttp import WSGIServer

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WSGIServer, "request_queue_size", 128)
        yield


class AppServesStatic(handlers.StaticFilesHandler):
    def _should_handle(self, path):
        return False


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashes():
    """A cheap hasher for the passwords this process makes and checks.

    The site's PBKDF2 (a million rounds, about 0.4 s a hash on an idle core) would be paid by
    every sign-up, sign-in and admin fixture. The tests are about when a hash is made and
    checked (tests/test_abuse.py counts them per request), not about its cost; the processes
    that `up` and the CLI start keep the site's hasher.
    """
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def prepared_data_dir():
    """The start-up step the CLI and wsgi.py take: importing the settings made nothing."""
    from django.conf import settings

    prepare_data_dir(settings.DATA_DIR)


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
    load_catalog(
        {"categories": data["categories"], "tools": [t for t in data["tools"] if t["name"] in wanted]}
    )
    tools = list(Tool.objects.select_related("category").order_by("slug"))
    for tool in tools:
        review_tool(tool=tool, model="offline")
    return tools


def panel_label(slug: str) -> str:
    """The tally the panel's stored reviews give a tool: pages must show it, whatever it is."""
    return Tool.objects.with_panel().get(slug=slug).panel.label


CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Real chromium through Playwright (Debian's build, installed by scripts/test).

    One launch per test module, not per test: each test opens its own page or context, which
    shares no cookies or storage with another's.
    """
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


def pytest_sessionfinish(session):
    """In a parallel run, each worker hands its security probe counts to the controller."""
    from tests.security_corpora import TALLY

    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["security_tally"] = TALLY.as_data()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    from tests.security_corpora import TALLY

    TALLY.merge(getattr(node, "workeroutput", {}).get("security_tally", {}))


def pytest_terminal_summary(terminalreporter):
    """The security probes' counts (tried / refused safely / problems), for the security note."""
    from tests.security_corpora import TALLY

    lines = TALLY.lines()
    if lines:
        terminalreporter.section("security probes")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with an empty cache. Each test's database is rolled back, so the page
    cache's generation tokens start again at "never written" (0), and a page or count kept
    under those tokens by an earlier test would belong to other data."""
    from django.core.cache import cache

    cache.clear()
