"""`shiporskip up` as a user runs it: a real gunicorn and a real huey worker on SQLite."""

import os
import re
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

from tests.up_process import SCRIPT, site_env, start_up
from tests.waiting import wait_for


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return response.read().decode()


def test_up_serves_the_catalog_reviews_it_and_stops_cleanly(tmp_path):
    up = start_up(site_env(tmp_path, SHIPORSKIP_WEB_WORKERS="1"))
    port, lines = up.port, up.lines
    try:
        address = next(line for line in lines if "is running at" in line)
        assert f"http://127.0.0.1:{port}/" in address
        assert any("Loaded the bundled catalog" in line for line in lines)

        url = f"http://127.0.0.1:{port}/compare/code-llama-4-vs-mistral-3-small-22b"

        def all_scored():
            return len(re.findall(r"\d+/100 · (?:ship|skip)", fetch(url))) == 8

        wait_for(all_scored, 90, "the worker to review both tools")
        page = fetch(url)
        assert "Code Llama 4 vs Mistral 3 Small (22B)" in page
        for persona in ("Builder", "Skeptic", "Futurist", "Founder"):
            assert persona in page
        css = re.search(r'href="(/static/shiporskip/site\.[0-9a-f]{12}\.css)"', page)  # hashed by `up`
        assert css and "--accent" in fetch(f"http://127.0.0.1:{port}{css.group(1)}")
    finally:
        code = up.stop()
    assert code == 0, "".join(lines[-20:])
    with socket.socket() as sock:
        # REUSEADDR ignores TIME_WAIT leftovers but still fails while anything listens.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))  # the web server let go of the port


def test_sigterm_stops_the_server_and_the_worker(tmp_path):
    up = start_up(site_env(tmp_path, SHIPORSKIP_WEB_WORKERS="1"), new_session=True)
    # The children run in their own sessions (cli/serve.py), so look them up by parent, not group.
    pgrep = subprocess.run(["pgrep", "-P", str(up.proc.pid)], capture_output=True, text=True)
    children = pgrep.stdout.split()
    assert len(children) == 2, children  # the web server and the worker
    assert up.stop(signal.SIGTERM) == 0

    def alive():
        return [
            pid
            for pid in children
            if Path(f"/proc/{pid}").exists()
            and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
        ]

    wait_for(lambda: not alive(), 10, "the children to exit")


def test_up_refuses_a_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        result = subprocess.run(
            [SCRIPT, "up", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "SHIPORSKIP_DATA_DIR": str(tmp_path)},
        )
    assert result.returncode == 2
    assert f"127.0.0.1:{port} is already in use" in result.stderr


def test_up_points_email_links_at_its_own_address_unless_told(monkeypatch):
    from shiporskip.cli.serve import child_env, reachable_host

    monkeypatch.delenv("SHIPORSKIP_SITE_URL", raising=False)
    # Listening everywhere, links must carry an address other machines reach (not loopback,
    # which would send a reader's browser to their own computer), and one this machine owns.
    host = reachable_host()
    assert child_env("0.0.0.0", 9000, None)["SHIPORSKIP_SITE_URL"] == f"http://{host}:9000"
    with socket.socket() as sock:
        sock.bind((host, 0))  # fails for an address that is not this machine's
    if Path("/proc/net/route").exists() and "\t00000000\t" in Path("/proc/net/route").read_text():
        assert not host.startswith("127."), "a machine with a default route has a network address"
    assert child_env("::1", 9000, None)["SHIPORSKIP_SITE_URL"] == "http://[::1]:9000"
    monkeypatch.setenv("SHIPORSKIP_SITE_URL", "https://verdicts.example.com")
    assert child_env("0.0.0.0", 9000, None)["SHIPORSKIP_SITE_URL"] == "https://verdicts.example.com"


def test_web_threads_are_granians_unless_set(tmp_path):
    """granian's own number of Python threads per web process (a request whose body is still
    arriving holds one: tests/test_hardening.py), unless the setting says otherwise."""
    code = "from shiporskip.cli.serve import web_command; print(web_command('127.0.0.1', 1))"

    def command(**env) -> str:
        done = subprocess.run(
            [SCRIPT, "manage", "shell", "--no-imports", "-c", code],
            env=site_env(tmp_path, **env),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "--blocking-threads" not in command()
    assert "--blocking-threads" not in command(DATABASE_URL="postgres://postgres@127.0.0.1:5432/test")
    assert "'--blocking-threads', '8'" in command(SHIPORSKIP_WEB_THREADS="8")
