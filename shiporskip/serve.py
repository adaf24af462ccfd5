"""`shiporskip up`: one command that prepares the data and runs the web server and worker."""

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command


def prepare(model: str | None) -> int:
    """Migrate, seed, and queue panel runs for tools without reviews; return how many."""
    from shiporskip.catalog.loading import load_bundled
    from shiporskip.catalog.models import Tool
    from shiporskip.panel.models import PanelRun
    from shiporskip.panel.personas import ensure_personas
    from shiporskip.panel.running import queue_panel_run, requeue_stale
    from shiporskip.panel.tasks import run_panel_task

    call_command("migrate", interactive=False, verbosity=0)
    ensure_personas()
    if not Tool.objects.exists():
        result = load_bundled()
        print(f"Loaded the bundled catalog: {result.created} tools.")
    requeue_stale()  # runs cut off by a crash; live ones elsewhere keep their heartbeat
    for run_id in PanelRun.objects.filter(status=PanelRun.Status.QUEUED).values_list("pk", flat=True):
        run_panel_task(run_id)  # a run already in the queue is claimed once; extras stop
    unreviewed = Tool.objects.filter(current_run__isnull=True).exclude(
        runs__status__in=["queued", "running"]).select_related("category")
    queued = [queue_panel_run(tool=tool, model=model) for tool in unreviewed]
    return len(queued)


def port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(host: str, port: int, proc: subprocess.Popen, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    target = "127.0.0.1" if host in {"0.0.0.0", ""} else host.strip("[]")
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection((target, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def reachable_host(family: int = socket.AF_INET) -> str:
    """This machine's address on its main network: the one other machines reach it by.

    Connecting a UDP socket sends nothing; it only makes the kernel pick the interface and
    source address a packet to the outside would use.
    """
    probe = ("192.0.2.1", 9) if family == socket.AF_INET else ("2001:db8::1", 9)  # documentation nets
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect(probe)
            return sock.getsockname()[0]
    except OSError:  # no route out: the loopback is all there is
        return "127.0.0.1" if family == socket.AF_INET else "::1"


def site_address(host: str, port: int) -> str:
    """The address readers use: this machine's network address when listening everywhere."""
    if host in {"0.0.0.0", ""}:
        host = reachable_host()
    elif host == "::":
        host = reachable_host(socket.AF_INET6)
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def child_env(host: str, port: int, model: str | None) -> dict:
    env = dict(os.environ, SHIPORSKIP_DATA_DIR=str(settings.DATA_DIR))
    # Links in emails (confirmations, password resets) point where this server listens,
    # unless the publisher set the public address.
    env.setdefault("SHIPORSKIP_SITE_URL", site_address(host, port))
    if model:
        env["SHIPORSKIP_MODEL"] = model
    if host not in {"0.0.0.0", "::", ""} and "SHIPORSKIP_ALLOWED_HOSTS" not in os.environ:
        env["SHIPORSKIP_ALLOWED_HOSTS"] = ",".join([*settings.ALLOWED_HOSTS, host])
    elif "SHIPORSKIP_ALLOWED_HOSTS" not in os.environ:
        env["SHIPORSKIP_ALLOWED_HOSTS"] = "*"  # listening everywhere: any address may be used
    return env


def up(*, host: str, port: int, model: str | None) -> int:
    from shiporskip.cli import CLIError
    from shiporskip.panel.backends import ReviewerError, get_reviewer

    try:
        get_reviewer(model or settings.SHIPORSKIP_MODEL)
    except ReviewerError as exc:
        raise CLIError(str(exc)) from None
    if not port_free(host, port):
        raise CLIError(f"{host}:{port} is already in use: stop what runs there or pass --port")
    queued = prepare(model)
    if queued:
        print(f"Queued {queued} panel run(s); the worker reviews them in the background.")
    env = child_env(host, port, model)
    # The children get their own session: Ctrl-C in the terminal reaches `up` alone, which
    # stops them with one SIGTERM each. Sent to the whole group, it would start huey's patient
    # stop in the worker, which then ignores our SIGTERM until it is killed mid-run.
    web = subprocess.Popen(web_command(host, port), env=env, start_new_session=True)
    worker = subprocess.Popen([sys.executable, "-m", "shiporskip.cli", "worker"], env=env,
                              start_new_session=True)
    children = [web, worker]
    # A service manager (or `kill`) sends SIGTERM: stop the children as Ctrl-C does. SIGINT is
    # set too: a shell starting us in the background (`... &`) leaves it ignored otherwise.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    # A closed terminal hangs up on `up` alone now: stop the children rather than orphan them.
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        if wait_for_port(host, port, web):
            print(f"Ship or Skip is running at {env['SHIPORSKIP_SITE_URL']}/  (Ctrl-C to stop)",
                  flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("A child process stopped; shutting down.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping the web server and the worker…", flush=True)
        return 0
    finally:
        stop(children)


def web_command(host: str, port: int) -> list[str]:
    """granian serving the WSGI app: its I/O is asynchronous (Rust), so a client that sends its
    headers or body slowly holds a socket, not one of the Python threads, and cannot stall the
    site the way it stalls gunicorn's sync workers (tests/test_hardening.py, docs/deploy.md)."""
    return [sys.executable, "-m", "granian", "--interface", "wsgi", "shiporskip.wsgi:application",
            "--host", host, "--port", str(port), "--workers", str(settings.WEB_WORKERS),
            "--no-ws", "--http", "1", "--http1-header-read-timeout", "10000",
            "--workers-kill-timeout", "5", "--log-level", "warning", "--access-log"]


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
