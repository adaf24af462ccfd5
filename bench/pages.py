"""One page three ways, in one run: nginx serving its bytes as a file, the origin, the proxy cache.

Run: .venv/bin/python bench/pages.py [--seconds 10] [--connections 32] [--rounds 3]

Setup (its own): installs wrk and nginx with apt-get when missing, makes a data dir with the
bundled catalog reviewed offline, and starts the origin exactly as `shiporskip up` does.
Then, with wrk (2 threads, CONNECTIONS connections, SECONDS seconds) on the seed comparison page:
  1. nginx static: the page's bytes, fetched from the origin, served by nginx as a file: the
     ceiling of this machine, the baseline (1.00x);
  2. origin: `shiporskip up`'s web server, after one request (the page is cached if the app
     caches it);
  3. proxy cache: the shipped deploy/nginx/shiporskip.conf in front of that origin.
Three rounds by default, each measuring all three in turn; it prints req/s and each ratio to
nginx static per round, and the median ratio of the rounds against the targets of issue 12 (origin >=
0.10x for a cached page, behind nginx >= 0.8x). The machine's load average is printed too:
other work on it moves every figure.
"""

import argparse
import os
import re
import shutil
import signal
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
TARGETS = {"origin": 0.10, "proxy cache": 0.80}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def install(*packages: str) -> None:
    missing = [p for p in packages if not (shutil.which(p) or os.access(f"/usr/sbin/{p}", os.X_OK))]
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our loopback)
                return response.read()
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:g} s")


def start_origin(folder: Path, port: int) -> tuple[subprocess.Popen, dict]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SHIPORSKIP_", "PROMETHEUS_")) and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    env["SHIPORSKIP_DATA_DIR"] = str(folder / "data")
    shiporskip = str(Path(sys.executable).parent / "shiporskip")
    subprocess.run([shiporskip, "catalog", "load"], env=env, check=True, capture_output=True)
    subprocess.run([shiporskip, "review", "--all"], env=env, check=True, capture_output=True)
    origin = subprocess.Popen(
        [shiporskip, "up", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return origin, env


def nginx_config(folder: Path, static_port: int, proxy_port: int, origin_port: int) -> Path:
    """One nginx: a plain static server, and the shipped site config in front of the origin."""
    site = (ROOT / "deploy" / "nginx" / "shiporskip.conf").read_text()
    upstreams = re.findall(r"\n\s*server 127\.0\.0\.1:\d+[^;]*;", site)
    site = site.replace(upstreams[0], f"\n    server 127.0.0.1:{origin_port};")
    for extra in upstreams[1:]:  # one origin here
        site = site.replace(extra, "")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{proxy_port};").replace("listen [::]:80;", "")
    site = site.replace("/var/cache/nginx/shiporskip", str(folder / "cache"))
    site = site.replace("/var/log/nginx/shiporskip.access.log", str(folder / "access.log"))
    (folder / "site.conf").write_text(site)
    config = folder / "nginx.conf"
    config.write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes auto;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    include {folder}/site.conf;
    server {{
        listen 127.0.0.1:{static_port};
        root {folder}/static;
        default_type text/html;
        access_log off;
    }}
}}
""")
    return config


def wrk(port: int, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}{PAGE}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk on port {port}: {errors.group(1)} error answers\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    install("wrk", "nginx")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    folder = Path(tempfile.mkdtemp(prefix="sos-pages-"))
    origin_port, static_port, proxy_port = free_port(), free_port(), free_port()
    origin, _ = start_origin(folder, origin_port)
    proxy = None
    try:
        body = wait_up(f"http://127.0.0.1:{origin_port}{PAGE}", origin)
        static = folder / "static" / PAGE.lstrip("/")
        static.parent.mkdir(parents=True)
        static.write_bytes(body)
        config = nginx_config(folder, static_port, proxy_port, origin_port)
        proxy = subprocess.Popen(
            [nginx, "-p", str(folder), "-c", str(config), "-g", "daemon off;"], start_new_session=True
        )
        for port in (static_port, proxy_port):
            fetched = wait_up(f"http://127.0.0.1:{port}{PAGE}", proxy)
            assert fetched == body, f"port {port} served other bytes than the origin"
        print(
            f"page {PAGE}: {len(body):,} bytes; wrk -t2 -c{args.connections} -d{args.seconds}s; "
            f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )
        servers = {"nginx static": static_port, "origin": origin_port, "proxy cache": proxy_port}
        ratios: dict[str, list[float]] = {name: [] for name in servers}
        for turn in range(1, args.rounds + 1):
            # Each round measures all three in turn, so a change in the machine's load weighs
            # on each alike; the verdict is on the median of the rounds' ratios.
            results = {name: wrk(port, args.seconds, args.connections) for name, port in servers.items()}
            for name, rate in results.items():
                ratios[name].append(rate / results["nginx static"])
            shown = (f"{name} {rate:,.0f} req/s ({ratios[name][-1]:.3f}x)" for name, rate in results.items())
            print(f"round {turn}: " + ", ".join(shown), flush=True)
        for name in servers:
            ratio = statistics.median(ratios[name])
            target = TARGETS.get(name)
            met = "met" if target is not None and ratio >= target else "MISSED"
            verdict = "" if target is None else f"  (target >= {target:.2f}x: {met})"
            print(f"{name:12} median ratio {ratio:6.3f}x{verdict}", flush=True)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if proxy:
            stop(proxy)
        stop(origin)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
