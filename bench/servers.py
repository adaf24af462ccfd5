"""gunicorn (sync workers, what `up` ran before) against granian (what `up` runs now), one run.

Each is also run in the variants that decide `up`'s settings: with its access log on (a line
written per request), granian with 256 blocking threads per worker (its WSGI default: half its
backpressure of backlog/workers) and with 1, and with the page cache off
(SHIPORSKIP_PAGE_CACHE_SECONDS=0, so every request renders).

Run: .venv/bin/python bench/servers.py [--seconds 10] [--connections 32] [--workers 2]

Both serve the same data dir (bundled catalog, reviewed offline) with the same number of
worker processes. For each server it measures, on loopback:
  - throughput: wrk (installed with apt if missing) on the seed comparison page, CONNECTIONS
    connections for SECONDS seconds;
  - latency under slow clients: 16 connections that never finish their headers (slowloris)
    plus one POST that never finishes its body, then 20 GET / in a row: median and worst.
It prints each figure and the ratio granian / gunicorn (throughput: higher is better).
"""

import argparse
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "/compare/code-llama-4-vs-mistral-3-small-22b"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepared_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SHIPORSKIP_DATA_DIR"] = tempfile.mkdtemp(prefix="sos-servers-")
    shiporskip = str(Path(sys.executable).parent / "shiporskip")
    subprocess.run([shiporskip, "catalog", "load"], env=env, check=True, capture_output=True)
    subprocess.run([shiporskip, "review", "--all"], env=env, check=True, capture_output=True)
    subprocess.run(
        [shiporskip, "manage", "collectstatic", "--noinput"], env=env, check=True, capture_output=True
    )
    return env


def commands(port: int, workers: int) -> dict[str, tuple[list[str], dict]]:
    """name: (command, environment changes). `granian` is exactly what `up` runs."""
    from shiporskip.cli.serve import web_command  # noqa: PLC0415 - needs Django settings

    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "shiporskip.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
    ]
    granian = web_command("127.0.0.1", port)
    threads = granian.index("--blocking-threads") + 1 if "--blocking-threads" in granian else None

    def with_threads(n: int) -> list[str]:
        if threads is None:
            return [*granian, "--blocking-threads", str(n)]
        return [*granian[:threads], str(n), *granian[threads + 1 :]]

    return {
        "gunicorn": (gunicorn, {}),
        "gunicorn+log": ([*gunicorn, "--access-logfile", "-"], {}),
        "granian": (granian, {}),
        "granian+log": ([*granian, "--access-log"], {}),
        "granian bt=256": (with_threads(256), {}),
        "granian bt=1": (with_threads(1), {}),
        "granian nocache": (granian, {"SHIPORSKIP_PAGE_CACHE_SECONDS": "0"}),
    }


def wait_up(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()  # noqa: S310
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start within 30 s")


def throughput(port: int, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}{PAGE}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def under_slow_clients(port: int) -> list[float]:
    slow = []
    for _ in range(16):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        slow.append(sock)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"POST /newsletter/subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 60000\r\n\r\nemail="
    )
    slow.append(sock)
    times = []
    try:
        for _ in range(20):
            start = time.monotonic()
            with contextlib.suppress(OSError):  # a refused request counts with its time
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60).read()  # noqa: S310
            times.append(time.monotonic() - start)
    finally:
        for sock in slow:
            sock.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
        )
    env = prepared_env()
    os.environ.update(
        SHIPORSKIP_DATA_DIR=env["SHIPORSKIP_DATA_DIR"],
        DJANGO_SETTINGS_MODULE="shiporskip.settings",
        SHIPORSKIP_WEB_WORKERS=str(args.workers),
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    results = {}
    for name, (command, changes) in commands(free_port(), args.workers).items():
        port = (
            int(command[command.index("--port") + 1])
            if "--port" in command
            else int(command[command.index("--bind") + 1].rsplit(":", 1)[1])
        )
        proc = subprocess.Popen(
            command, env=env | changes, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_up(port, proc)
            rps = throughput(port, args.seconds, args.connections)
            slow = under_slow_clients(port)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        results[name] = (rps, statistics.median(slow), max(slow))
        print(
            f"{name:16} {rps:9.0f} req/s   under slow clients: median {results[name][1] * 1000:7.1f} ms, "
            f"worst {results[name][2] * 1000:7.1f} ms",
            flush=True,
        )
    g_rps, g_med, g_max = results["gunicorn"]
    for name, (n_rps, n_med, n_max) in results.items():
        print(
            f"{name:16} / gunicorn: throughput {n_rps / g_rps:5.2f}x; latency under slow clients: "
            f"median {n_med / g_med:.3f}x, worst {n_max / g_max:.3f}x"
        )


if __name__ == "__main__":
    main()
