"""`shiporskip up`: one command that prepares the data and runs the web server and worker;
`shiporskip worker`: the worker alone."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from shiporskip.cli.base import CLIError, port_number


def add_parsers(sub) -> None:
    up = sub.add_parser(
        "up",
        help="migrate, load the catalog, start the web server and worker",
        description="Migrate the database, load the bundled catalog if it is "
        "empty, queue panel runs for unreviewed tools, then serve the site and "
        "run the worker until Ctrl-C.",
    )
    up.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    up.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")
    up.add_argument(
        "--model", help="reviewer backend as provider/model (default: $SHIPORSKIP_MODEL or offline)"
    )
    up.add_argument(
        "--log-to-stderr",
        action="store_true",
        help="show the web server's and the worker's logs here (default: files under the data dir's logs/)",
    )

    sub.add_parser("worker", help="run the background worker alone (panel runs, weekly digest)")


def cmd_up(args) -> int:
    from shiporskip.backup import BackupError, site_in_use

    try:
        with site_in_use():  # `restore` refuses while this is held, and `up` while a restore runs
            return up(host=args.host, port=args.port, model=args.model, log_to_stderr=args.log_to_stderr)
    except BackupError as exc:  # a restore is in progress
        raise CLIError(str(exc)) from None


def cmd_worker(args) -> int:
    from shiporskip.backup import BackupError, site_in_use
    from shiporskip.panel.heartbeat import exit_leaving_abandoned_calls

    try:
        with site_in_use():
            call_command("run_huey")
    except BackupError as exc:
        raise CLIError(str(exc)) from None
    exit_leaving_abandoned_calls(0)  # stopped mid-run: its runs are queued again already
    return 0


def prepare(model: str | None) -> int:
    """Migrate, seed, and queue panel runs for tools without reviews; return how many."""
    from shiporskip.catalog.loading import load_bundled
    from shiporskip.catalog.models import Tool
    from shiporskip.panel.models import PanelRun
    from shiporskip.panel.personas import ensure_personas
    from shiporskip.panel.tasks import queue_panel_run, requeue_stale, run_panel_task

    call_command("migrate", interactive=False, verbosity=0)
    # Hashed, compressed copies of the static files in the data dir, for this version of the
    # code (an upgrade changes them): served as immutable, so a reader fetches each once.
    call_command("collectstatic", interactive=False, verbosity=0)
    ensure_personas()
    if not Tool.objects.exists():
        result = load_bundled()
        print(f"Loaded the bundled catalog: {result.created} tools.")
    requeue_stale()  # runs cut off by a crash; live ones elsewhere keep their heartbeat
    for run_id in PanelRun.objects.filter(status=PanelRun.Status.QUEUED).values_list("pk", flat=True):
        run_panel_task(run_id)  # a run already in the queue is claimed once; extras stop
    unreviewed = (
        Tool.objects.filter(current_run__isnull=True)
        .exclude(runs__status__in=["queued", "running"])
        .select_related("category")
    )
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


# What huey's consumer logs once it has started its workers and can take tasks.
WORKER_READY = b"consumer started"


def log_dir() -> Path:
    """Where `up` writes its children's output: the data dir's `logs`, private like the rest."""
    path = Path(settings.DATA_DIR) / "logs"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def open_log(path: Path):
    # Owner-only from the first byte: a log may hold addresses and paths (see cli's check).
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab", buffering=0)


def relay(stream, sink, ready: threading.Event) -> None:
    """Copy the worker's output to its log (or stderr), and tell when the worker is ready."""
    for line in stream:
        sink.write(line)
        sink.flush()
        if WORKER_READY in line.lower():
            ready.set()


def up(*, host: str, port: int, model: str | None, log_to_stderr: bool = False) -> int:
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
    # The children's logs go to files, so that the worker's lines do not scroll the address
    # away; --log-to-stderr keeps them in the terminal (a container or a service manager).
    logs = None if log_to_stderr else log_dir()
    web_log = open_log(logs / "web.log") if logs else None
    worker_log = open_log(logs / "worker.log") if logs else sys.stderr.buffer
    # The children get their own session: Ctrl-C in the terminal reaches `up` alone, which
    # stops them with one SIGTERM each. Sent to the whole group, it would start huey's patient
    # stop in the worker, which then ignores our SIGTERM until it is killed mid-run.
    web = subprocess.Popen(
        web_command(host, port),
        env=env,
        start_new_session=True,
        stdout=web_log,
        stderr=subprocess.STDOUT if web_log else None,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "shiporskip.cli", "worker"],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    children = [web, worker]
    worker_ready = threading.Event()
    relaying = threading.Thread(target=relay, args=(worker.stdout, worker_log, worker_ready), daemon=True)
    relaying.start()
    address = f"Ship or Skip is running at {env['SHIPORSKIP_SITE_URL']}/  (Ctrl-C to stop)"
    where = f" (logs: {logs / 'web.log'}, {logs / 'worker.log'})" if logs else ""
    # A service manager (or `kill`) sends SIGTERM: stop the children as Ctrl-C does. SIGINT is
    # set too: a shell starting us in the background (`... &`) leaves it ignored otherwise.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    # A closed terminal hangs up on `up` alone now: stop the children rather than orphan them.
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        if logs:
            print(
                f"Logs: {logs / 'web.log'} and {logs / 'worker.log'} (--log-to-stderr shows them here).",
                flush=True,
            )
        if wait_for_port(host, port, web):
            print(address, flush=True)
        announced = False
        while all(child.poll() is None for child in children):
            if not announced and worker_ready.is_set():
                # Said again once the worker takes tasks, so the address is the last line.
                print(f"The worker is ready. {address}", flush=True)
                announced = True
            time.sleep(0.5)
        print(f"A child process stopped; shutting down{where}.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping the web server and the worker…", flush=True)
        return 0
    finally:
        stop(children)
        relaying.join(timeout=5)  # the worker has exited: its last lines reach the log
        if web_log is not None:  # opened with the worker's log, which is then a file too
            web_log.close()
            worker_log.close()


def web_command(host: str, port: int) -> list[str]:
    """granian serving the WSGI app: its I/O is asynchronous (Rust), so a client that sends its
    headers or body slowly holds a socket, not one of the Python threads, and cannot stall the
    site the way it stalls gunicorn's sync workers (tests/test_hardening.py, docs/deploy.md)."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "shiporskip.wsgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(settings.WEB_WORKERS),
        *(["--blocking-threads", str(settings.WEB_THREADS)] if settings.WEB_THREADS else []),
        "--no-ws",
        "--http",
        "1",
        "--http1-header-read-timeout",
        "10000",
        "--workers-kill-timeout",
        "5",
        "--log-level",
        "warning",
        # A log line per request is a write per request: only when asked for.
        *(["--access-log"] if settings.ACCESS_LOG else []),
    ]


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
