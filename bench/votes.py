"""Votes per second sustained by the real web server, on SQLite and on PostgreSQL.

Run: .venv/bin/python bench/votes.py [--db sqlite postgres] [--clients 8] [--seconds 10]
         [--workers 2] [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]

For each database: a fresh database with the bundled catalog, gunicorn with sync workers
(as `shiporskip up` ran it before it moved to granian; bench/servers.py compares the two),
rate limits counted but set too high to trip, and CLIENTS client processes on loopback,
each its own reader (session cookie and CSRF token). In the same run it measures
  - the baseline: GET /me per second (the per-reader read every page makes, no write),
  - votes per second: POST /tools/<slug>/vote with ship, skip or none at random over 10 tools,
and prints votes/s, the ratio to the baseline, and whether the final counts in the database
equal what the clients last said (the check fails loudly if they do not).
"""

import argparse
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.http_reader import HttpReader  # noqa: E402

BUNDLED = ROOT / "shiporskip" / "catalog" / "data" / "catalog.yaml"
SLUGS = ["code-llama-4", "mistral-3-small-22b", "github-copilot", "cursor", "aider", "ollama", "vllm",
         "llamacpp", "langchain", "groq"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_postgres(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS shiporskip_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE shiporskip_bench")
    return url.rsplit("/", 1)[0] + "/shiporskip_bench"


def environment(db: str, pg_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SHIPORSKIP_DATA_DIR"] = tempfile.mkdtemp(prefix="sos-votes-")
    if db == "postgres":
        env["DATABASE_URL"] = fresh_postgres(pg_url)
    # Limits stay on, so every vote pays for its two counters, but set too high to trip.
    for name in ["VOTE", "VOTE_IP"]:
        env[f"SHIPORSKIP_RATE_{name}"] = "1000000/minute"
    env["SHIPORSKIP_PROXY_COUNT"] = "1"
    return env


def cli(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "shiporskip.cli", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def start_server(env: dict, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "shiporskip.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers)], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start within 30 s")


def client(job: tuple) -> dict:
    """One reader: GET /me or vote for `seconds`; return its request count and last votes."""
    base, mode, seconds, seed = job
    # Each client comes from its own address, as readers behind nginx or a CDN do; from one
    # address every vote would queue on that address's rate counter.
    rng, reader = random.Random(seed), HttpReader(base, {"X-Forwarded-For": f"10.0.{seed}.1"})
    done, errors, last = 0, {}, {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if mode == "read":
            reader.get_json("/me?tools=" + ",".join(SLUGS[:2]))
        else:
            slug, verdict = rng.choice(SLUGS), rng.choice(["ship", "ship", "skip", "none"])
            status, _ = reader.post(f"/tools/{slug}/vote", {"verdict": verdict})
            if status != 200:
                errors[status] = errors.get(status, 0) + 1
                continue
            last[slug] = verdict
        done += 1
    return {"done": done, "errors": errors, "last": last}


def run_phase(base: str, mode: str, clients: int, seconds: float) -> tuple[float, list]:
    with Pool(clients) as pool:
        started = time.monotonic()
        results = pool.map(client, [(base, mode, seconds, seed) for seed in range(clients)])
        elapsed = time.monotonic() - started
    return sum(r["done"] for r in results) / elapsed, results


def stored_counts(env: dict) -> dict:
    sql = ("SELECT t.slug, v.verdict, COUNT(*) FROM community_vote v "
           "JOIN catalog_tool t ON t.id = v.tool_id GROUP BY t.slug, v.verdict")
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            rows = conn.execute(sql).fetchall()
    else:
        with sqlite3.connect(Path(env["SHIPORSKIP_DATA_DIR"]) / "shiporskip.sqlite3") as conn:
            rows = conn.execute(sql).fetchall()
    return {(slug, verdict): n for slug, verdict, n in rows}


def expected_counts(results: list) -> dict:
    expected = {}
    for result in results:
        for slug, verdict in result["last"].items():
            if verdict != "none":
                expected[(slug, verdict)] = expected.get((slug, verdict), 0) + 1
    return expected


def bench(db: str, args) -> None:
    env = environment(db, args.postgres_url)
    cli(env, "manage", "migrate")
    cli(env, "catalog", "load", str(BUNDLED))
    server, base = start_server(env, args.workers)
    try:
        reads, _ = run_phase(base, "read", args.clients, args.seconds)
        votes, results = run_phase(base, "vote", args.clients, args.seconds)
    finally:
        server.terminate()
        server.wait()
    errors = {}
    for r in results:
        for status, n in r["errors"].items():
            errors[status] = errors.get(status, 0) + n
    stored, expected = stored_counts(env), expected_counts(results)
    check = "exact" if stored == expected and not errors else f"MISMATCH (errors by status: {errors})"
    print(f"{db:<9} {args.clients} clients, {args.workers} web workers, {args.seconds:g} s each: "
          f"baseline GET /me {reads:7.1f}/s | votes {votes:7.1f}/s | ratio {votes / reads:.2f} | "
          f"{sum(r['done'] for r in results)} votes, final counts {check} "
          f"({sum(stored.values())} votes stand)")
    if check != "exact":
        raise SystemExit(f"{db}: stored {stored} != expected {expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    for db in args.db:
        bench(db, args)


if __name__ == "__main__":
    main()
