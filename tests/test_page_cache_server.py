"""The page cache through the real server: `shiporskip up` with two web processes (each with
its own cache when there is no Redis, one shared cache with it) and the worker. A vote from a
reader, a catalog edit from another process and a verdict from `shiporskip review` show on the
very next request of every page that displays them, whichever web process answers.

No browser: plain HTTP, a new connection per request, so both web processes answer.
"""

import contextlib
import re
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.community import CODE_LLAMA, COMPARE, MISTRAL
from tests.http_reader import HttpReader
from tests.redis_server import own_database
from tests.up_process import SCRIPT, site_env, start_up
from tests.waiting import wait_for

CATEGORY = "/categories/developer-tools"
# The pages that list Code Llama 4 whatever the bundled catalog's size (its category has 8
# tools: one page of each list); the home page's dozen latest verdicts is tested in-process.
TALLY_PAGES = [
    "/tools?category=developer-tools",
    CATEGORY,
    COMPARE,
    f"/tools/{CODE_LLAMA}",
    f"/tools/{MISTRAL}/alternatives",
]
PANEL_PAGES = [
    *TALLY_PAGES,
    "/panel/builder?category=developer-tools",
    f"/tools/{CODE_LLAMA}/badge.svg",
    "/categories/developer-tools/verdicts.atom",
]
ASKS = 8  # requests per page and check: enough for both web processes to answer


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        assert response.status == 200, url
        return response.read()


def one_page(base: str, path: str) -> str:
    """The page as every web process serves it: the same bytes on each request."""
    seen = {get(base + path) for _ in range(ASKS)}
    assert len(seen) == 1, f"{path}: the web processes disagree"
    return seen.pop().decode()


def shell(env: dict, code: str) -> str:
    """Python run by `shiporskip manage shell` on the server's data: another process's write."""
    done = subprocess.run(
        [SCRIPT, "manage", "shell", "--no-imports", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(params=["per-process cache", "redis"])
def site(request, tmp_path):
    with contextlib.ExitStack() as stack:
        env = {"REDIS_URL": stack.enter_context(own_database())} if request.param == "redis" else {}
        yield from served(env | site_env(tmp_path, SHIPORSKIP_WEB_WORKERS="2"))


def served(env: dict):
    up = start_up(env, timeout=90)
    try:
        wait_for(
            lambda: "awaiting the panel" not in get(up.base + "/").decode(),
            180,
            "the worker to review the catalog",
        )
        yield up.base, up.env
    finally:
        up.stop()


def label_of(env: dict, what: str) -> str:
    return shell(
        env,
        f"from shiporskip.catalog.models import Tool; "
        f"print(Tool.objects.with_tallies().get(slug={CODE_LLAMA!r}).{what}.label)",
    )


def test_writes_show_on_the_next_request_through_the_real_server(site):
    base, env = site
    before = {path: one_page(base, path) for path in PANEL_PAGES}

    # A vote, through one web process; every page with the tally, from every process.
    status, answer = HttpReader(base).post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
    assert status == 200 and answer["community"] == {"ship": 1, "skip": 0}
    tally = f'data-tally="{CODE_LLAMA}">{label_of(env, "community")}<'
    assert "Ship 100% · 1 vote" in tally
    for path in TALLY_PAGES:
        assert tally in one_page(base, path), path

    # A catalog edit from another process (as the admin saves a tool).
    shell(
        env,
        f"from shiporskip.catalog.models import Tool; t = Tool.objects.get(slug={CODE_LLAMA!r}); "
        "t.name = 'Code Llama 4 Renamed'; t.save()",
    )
    for path in PANEL_PAGES:
        assert "Code Llama 4 Renamed" in one_page(base, path), path

    # A verdict from `shiporskip review`: the bars moved first, so the new run flips the tally.
    old = label_of(env, "panel")
    verdict = old.split()[0].lower()  # "Ship · 4 ship / 0 skip", or Skip, or Split
    shell(
        env,
        "from shiporskip.panel.models import Persona; "
        f"Persona.objects.update(ship_threshold={100 if verdict == 'ship' else 0})",
    )
    seen = {path: one_page(base, path) for path in PANEL_PAGES}
    assert all(old in seen[path] for path in [COMPARE, f"/tools/{CODE_LLAMA}"])
    done = subprocess.run(
        [SCRIPT, "review", CODE_LLAMA, "--force"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    new = label_of(env, "panel")
    assert new != old
    for path in PANEL_PAGES:
        page = one_page(base, path)
        assert page != seen[path] and page != before[path], path
    for path in [COMPARE, f"/tools/{CODE_LLAMA}", CATEGORY]:
        assert new in one_page(base, path), path


def test_the_real_server_compresses_revalidates_and_serves_immutable_static(site):
    base, _ = site
    request = urllib.request.Request(base + COMPARE, headers={"Accept-Encoding": "gzip"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
        assert response.headers["Content-Encoding"] == "gzip"
        etag = response.headers["ETag"]
        assert "Set-Cookie" not in response.headers
    again = {"Accept-Encoding": "gzip", "If-None-Match": etag}
    request = urllib.request.Request(base + COMPARE, headers=again)  # noqa: S310 - loopback only
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 - loopback only
    assert answer.value.code == 304
    css = re.search(r'href="(/static/shiporskip/site\.[0-9a-f]{12}\.css)"', one_page(base, "/")).group(1)
    with urllib.request.urlopen(base + css, timeout=30) as response:  # noqa: S310 - loopback only
        assert "immutable" in response.headers["Cache-Control"]
