"""The site spread over processes as on several machines: the shipped deploy/ files, for real.

nginx (deploy/nginx/shiporskip.conf, with this test's ports and folders) in front of two web
processes (the ExecStart of deploy/systemd/shiporskip-web@.service) and two workers
(`shiporskip worker`), on a PostgreSQL database of the test's own and Redis. Panel runs must be
spread over both workers and votes over both web processes, with every count exact; the proxy
cache must serve a stored page with the right headers and never show a voter a tally without
their vote. Run once (scripts/test: the SQLite pass), whatever DATABASE_URL says.
"""

import http.client
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.http_reader import HttpReader
from tests.redis_server import own_database
from tests.waiting import wait_for

# One worker holds the whole module: its tests share one topology and build on each other.
pytestmark = [pytest.mark.topology, pytest.mark.xdist_group("topology")]

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PG_SERVER = os.environ.get("SHIPORSKIP_TOPOLOGY_POSTGRES", "postgres://postgres@127.0.0.1:5432")
CACHE_SECONDS = 2  # the pages' max-age here: short, so that the test sees expiry


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


# ---- the shared parts: a database and a Redis db of our own (tests/redis_server.py) --------


def pg_connect(dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/{dbname}", autocommit=True, connect_timeout=3)


@pytest.fixture(scope="module")
def shared_parts():
    try:
        admin = pg_connect()
    except Exception as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG_SERVER} ({exc}); the topology needs it")
    name = f"shiporskip_topology_{uuid.uuid4().hex[:8]}"
    try:
        with own_database() as redis_url:  # skips without a Redis server
            admin.execute(f'CREATE DATABASE "{name}"')
            yield f"{PG_SERVER}/{name}", redis_url, name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# ---- the processes -------------------------------------------------------------------------


def web_command(port: int) -> list[str]:
    """The web unit's ExecStart, with this machine's interpreter, address and port."""
    unit = (DEPLOY / "systemd" / "shiporskip-web@.service").read_text()
    line = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    command = line.removeprefix("ExecStart=")
    command = command.replace("/srv/shiporskip/.venv/bin/python", sys.executable)
    command = command.replace("${SHIPORSKIP_BIND}", "127.0.0.1").replace("${SHIPORSKIP_WEB_WORKERS}", "1")
    return shlex.split(command.replace("%i", str(port)))


def nginx_config(folder: Path, port: int, web_ports: list[int]) -> Path:
    """deploy/nginx/shiporskip.conf with this test's ports and folders, in an http block."""
    site = (DEPLOY / "nginx" / "shiporskip.conf").read_text()
    upstreams = iter(web_ports)
    site = re.sub(r"server 127\.0\.0\.1:\d+", lambda m: f"server 127.0.0.1:{next(upstreams)}", site)
    assert next(upstreams, None) is None, "the shipped upstream block should list two web processes"
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("listen [::]:80;", "")
    site = site.replace("/var/cache/nginx/shiporskip", str(folder / "cache"))
    site = site.replace("/var/log/nginx/shiporskip.access.log", str(folder / "access.log"))
    site = site.replace("buffer=64k flush=2s", "")  # the test reads the log at once
    (folder / "site.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    include {folder}/site.conf;
}}
""")
    return main


class Topology:
    def __init__(self, folder: Path, database_url: str, redis_url: str):
        self.folder = folder
        self.processes: list[subprocess.Popen] = []
        self.logs: list = []
        self.web_ports = [free_port(), free_port()]
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SHIPORSKIP_", "PROMETHEUS_")) and k not in {"DATABASE_URL", "REDIS_URL"}
        }
        self.env = env | {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SHIPORSKIP_SECRET_KEY": uuid.uuid4().hex * 2,  # one key for every process, as on machines
            "SHIPORSKIP_SITE_URL": self.base,
            "SHIPORSKIP_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SHIPORSKIP_PROXY_COUNT": "1",
            "SHIPORSKIP_CACHE_SECONDS": str(CACHE_SECONDS),
            "SHIPORSKIP_MODEL": "offline",
            "SHIPORSKIP_MAIL_DIR": str(folder / "mail"),
            # Every reader here comes from 127.0.0.1: the per-IP limits would count them as one.
            "SHIPORSKIP_RATE_VOTE": "off",
            "SHIPORSKIP_RATE_VOTE_IP": "off",
        }

    def machine(self, name: str) -> dict:
        """The environment of one machine: its own data dir, the shared database and Redis."""
        data = self.folder / name
        data.mkdir(exist_ok=True)
        return self.env | {"SHIPORSKIP_DATA_DIR": str(data)}

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.logs.append(log)
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def shiporskip(self, *args: str, env: dict) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "shiporskip.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def up(self, nginx: str) -> None:
        web_env, worker_env = self.machine("web-machine"), self.machine("worker-machine")
        self.shiporskip("manage", "migrate", "--verbosity", "0", env=worker_env)
        for n in (1, 2):
            self.start(f"worker{n}", [sys.executable, "-m", "shiporskip.cli", "worker"], worker_env)
        for n, port in enumerate(self.web_ports, 1):
            self.start(f"web{n}", web_command(port), web_env)
        config = nginx_config(self.folder, self.port, self.web_ports)
        self.start("nginx", [nginx, "-p", str(self.folder), "-c", str(config), "-g", "daemon off;"], web_env)
        for port in [*self.web_ports, self.port]:
            wait_for(lambda port=port: port_open(port) or self.died(), 60, f"port {port}")
        for n in (1, 2):
            wait_for(
                lambda n=n: "consumer started" in self.log(f"worker{n}").lower() or self.died(),
                60,
                f"worker{n} to start",
            )

    def died(self):
        for process in self.processes:
            if process.poll() is not None:
                raise AssertionError(
                    f"{process.args[:4]} exited with {process.returncode}; logs in "
                    f"{self.folder}:\n"
                    + "\n".join(
                        f"== {p.name}\n{p.read_text(errors='replace')[-1500:]}"
                        for p in self.folder.glob("*.log")
                    )
                )
        return False

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in self.logs:
            log.close()


@pytest.fixture(scope="module")
def topology(shared_parts, tmp_path_factory):
    nginx = nginx_binary()
    if not nginx:
        pytest.skip("nginx is not installed (scripts/test installs it with apt-get)")
    database_url, redis_url, dbname = shared_parts
    site = Topology(tmp_path_factory.mktemp("topology"), database_url, redis_url)
    try:
        site.up(nginx)
        site.dbname = dbname
        yield site
    finally:
        site.stop()


def query(site: Topology, sql: str, *params) -> list[tuple]:
    with pg_connect(site.dbname) as conn:
        return conn.execute(sql, params).fetchall()


def get(site: Topology, path: str, opener=None, port: int | None = None):
    """GET through nginx (or a web process's port); the status, headers and body."""
    url = f"http://127.0.0.1:{port or site.port}{path}"
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


# ---- the tests, in order: the panel first, then votes and the cache on the reviewed site ----


@pytest.fixture(scope="module")
def reviewed(topology):
    """Queue a panel run for every tool from a third machine and wait for both workers to finish
    them; every other test reads the reviewed catalog, so each asks for this (in any order)."""
    snippet = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shiporskip.settings');"
        "django.setup()\n"
        "from shiporskip.cli.serve import prepare\n"
        "print(prepare(None))"
    )
    done = subprocess.run(
        [sys.executable, "-c", snippet],
        env=topology.machine("worker-machine"),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    queued = int(done.stdout.strip().splitlines()[-1])
    tools = query(topology, "SELECT count(*) FROM catalog_tool")[0][0]

    def finished():
        topology.died()
        sql = "SELECT count(*) FROM panel_panelrun WHERE status IN ('queued', 'running')"
        return query(topology, sql)[0][0] == 0

    wait_for(finished, 240, "every panel run to finish", poll=0.5)
    return queued, tools


def test_panel_runs_spread_over_both_workers_exactly_once(topology, reviewed):
    queued, tools = reviewed
    assert queued == tools > 10
    by_status = dict(query(topology, "SELECT status, count(*) FROM panel_panelrun GROUP BY status"))
    assert by_status == {"done": tools}, by_status  # none failed, none run twice
    personas = query(topology, "SELECT count(*) FROM panel_persona WHERE active")[0][0]
    reviews = query(topology, "SELECT count(*) FROM panel_review")[0][0]
    assert reviews == tools * personas
    unreviewed = query(topology, "SELECT count(*) FROM catalog_tool WHERE current_run_id IS NULL")[0][0]
    assert unreviewed == 0
    # Each worker logs the tasks it executed: both took a share, and together exactly one each.
    task = re.compile(r"Executing shiporskip\.panel\.tasks\.run_panel_task")
    executed = [len(task.findall(topology.log(f"worker{n}"))) for n in (1, 2)]
    print(f"panel runs per worker: {executed} of {tools}")
    assert all(executed), f"one worker ran every panel run: {executed}"
    assert sum(executed) == tools, executed


def reviewed_slugs(site: Topology) -> list[str]:
    return [
        slug
        for (slug,) in query(
            site, "SELECT slug FROM catalog_tool WHERE current_run_id IS NOT NULL ORDER BY slug"
        )
    ]


def vote_at_random(base: str, slugs: list[str], seed: int) -> tuple[dict, int]:
    rng = random.Random(seed)
    reader = HttpReader(base)
    final, posts = {}, 0
    for _ in range(12):
        slug, verdict = rng.choice(slugs), rng.choice(["ship", "ship", "skip", "none"])
        status, body = reader.post(f"/tools/{slug}/vote", {"verdict": verdict})
        assert status == 200, body
        final[slug], posts = verdict, posts + 1
    return final, posts


def test_votes_spread_over_both_web_processes_with_exact_counts(topology, reviewed):
    slugs = reviewed_slugs(topology)[:6]
    readers = 16
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda seed: vote_at_random(topology.base, slugs, seed), range(readers)))
    stored = {
        (slug, verdict): n
        for slug, verdict, n in query(
            topology,
            "SELECT t.slug, v.verdict, count(*) FROM community_vote v "
            "JOIN catalog_tool t ON t.id = v.tool_id GROUP BY t.slug, v.verdict",
        )
    }
    for slug in slugs:
        for verdict in ("ship", "skip"):
            expected = sum(1 for final, _ in results if final.get(slug) == verdict)
            assert stored.pop((slug, verdict), 0) == expected, (slug, verdict)
    assert stored == {}  # no vote anywhere else
    # nginx's log names the web process that answered each vote: both answered some.
    posts = sum(n for _, n in results)
    answered = re.findall(
        r'"POST /tools/[^ ]+/vote HTTP/1\.1" 200 .* upstream=127\.0\.0\.1:(\d+)',
        (topology.folder / "access.log").read_text(),
    )
    assert len(answered) == posts
    per_process = {port: answered.count(str(port)) for port in topology.web_ports}
    print(f"votes per web process: {per_process} of {posts}")
    assert all(per_process.values()), per_process
    # The request counter adds up over both processes: either one's /metrics tells the total.
    for port in topology.web_ports:
        status, _, text = get(topology, "/metrics", port=port)
        assert status == 200
        counted = re.search(
            r'shiporskip_http_requests_total\{route="community:vote",status="200"\} ([\d.e+]+)', text
        )
        assert counted and float(counted.group(1)) == posts, counted and counted.group(0)


def test_health_and_metrics_through_the_topology(topology, reviewed):
    # One vote of its own, so the render timing below has a write to show whatever ran before.
    slug = reviewed_slugs(topology)[-2]
    assert HttpReader(topology.base).post(f"/tools/{slug}/vote", {"verdict": "skip"})[0] == 200
    status, headers, body = get(topology, "/healthz")
    assert status == 200 and "no-store" in headers["Cache-Control"]
    checks = json.loads(body)["checks"]
    assert all(checks[part]["ok"] for part in ("database", "cache", "queue")), checks
    assert get(topology, "/metrics")[0] == 403  # the public proxy never hands out metrics
    status, _, text = get(topology, "/metrics", port=topology.web_ports[0])
    tools = query(topology, "SELECT count(*) FROM catalog_tool")[0][0]
    assert f'shiporskip_panel_runs{{status="done"}} {float(tools)}' in text
    assert re.search(r"^shiporskip_queue_pending \d", text, re.M)
    timed = re.search(r'^shiporskip_render_seconds_count\{route="community:vote"\} ([\d.e+]+)', text, re.M)
    assert timed and float(timed.group(1)) > 0


def raw_get(site: Topology, path: str, cookie: str = "") -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = conn.getresponse()
    body = response.read()
    headers = {k.lower(): v for k, v in response.getheaders()}
    conn.close()
    return response.status, headers, body


def test_the_proxy_cache_serves_a_stored_page_with_the_right_headers(topology, reviewed):
    left, right = reviewed_slugs(topology)[:2]
    path = f"/compare/{left}-vs-{right}"
    answers = [raw_get(topology, path) for _ in range(3)]
    assert [status for status, _, _ in answers] == [200, 200, 200]
    first, *later = [headers for _, headers, _ in answers]
    assert first["x-cache-status"] in {"MISS", "EXPIRED"}
    assert "HIT" in {headers["x-cache-status"] for headers in later}
    for headers in (first, *later):
        assert "public" in headers["cache-control"] and "max-age=" in headers["cache-control"]
        assert "set-cookie" not in headers
        assert "cookie" not in headers.get("vary", "").lower()
    assert len({body for _, _, body in answers}) == 1  # the stored bytes are the origin's


def tally(body: str, slug: str) -> str:
    found = re.search(rf'data-tally="{re.escape(slug)}"[^>]*>([^<]*)<', body)
    assert found, f"no tally for {slug} on the page"
    return found.group(1).strip()


def test_no_stale_tally_after_a_vote(topology, reviewed):
    slug = reviewed_slugs(topology)[-1]  # not among the tools voted on above
    path = f"/tools/{slug}"

    def from_the_cache():
        # nginx files a page once the origin's answer is complete, which can be a moment after
        # the reader has it: the request right after may still be a MISS (run 4 of a soak).
        answer = raw_get(topology, path)
        return answer if answer[0] == 200 and answer[1]["x-cache-status"] == "HIT" else None

    _, _, body = wait_for(from_the_cache, 1.5, "the proxy to serve the page from its cache", poll=0.1)
    assert tally(body.decode(), slug) == "No community votes yet"

    voter = HttpReader(topology.base)
    assert voter.post(f"/tools/{slug}/vote", {"verdict": "ship"})[0] == 200
    # The voter holds a session now: the proxy sends them to the app, which shows their vote.
    status, headers, body = get(topology, path, opener=voter.opener)
    assert status == 200 and headers["X-Cache-Status"] == "BYPASS"
    assert tally(body, slug) == "Ship 100% · 1 vote"

    # Anonymous readers may get the stored copy until its max-age runs out; after that, one
    # request revalidates it in the background and the next ones have the vote.
    # Poll for that, never sleep for it: the wait's bound is max-age plus a loaded machine's margin.
    def anonymous_tally():
        return tally(raw_get(topology, path)[2].decode(), slug) == "Ship 100% · 1 vote"

    wait_for(anonymous_tally, CACHE_SECONDS + 15, "anonymous readers to see the vote", poll=0.2)
    status, headers, body = raw_get(topology, path)
    assert tally(body.decode(), slug) == "Ship 100% · 1 vote"
    assert headers["x-cache-status"] == "HIT"
