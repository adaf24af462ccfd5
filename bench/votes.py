"""Votes and bookmarks per second against GET /me, on the real server, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/votes.py [--database sqlite postgres] [--clients 32] [--seconds 15]
         [--workers 2] [--rounds 3] [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]
         [--redis-url redis://127.0.0.1:6379/N]
     (DATABASE_URL, if set, is the PostgreSQL server to use; the bench makes its own database.)

For each database: a fresh database with the bundled catalog, and the web server exactly as
`shiporskip up` starts it (granian, `cli.serve.web_command`, SHIPORSKIP_WEB_WORKERS workers),
with rate limits on (every write pays for its counters) but set too high to trip. CLIENTS
readers on loopback, each with its own connection, session cookie, CSRF token and client
address (X-Forwarded-For, as behind nginx), run three phases of SECONDS each (split in
ROUNDS turns taken in order, so the machine's changing load weighs on each alike):
  - the baseline: GET /me?tools=... (the per-reader read every page makes, no write), by
    readers who have a session, as a reader who votes has (each makes one before the phases),
  - votes: POST /tools/<slug>/vote, ship, skip or none at random over 10 tools,
  - bookmarks: POST /tools/<slug>/bookmark, bookmarked 1 or 0 at random over the same tools,
and it prints each rate, its ratio to the baseline of the same run (the target is >= 0.8)
with the lowest and highest of the rounds' own ratios (the spread the machine's load made),
the CPU time a request cost the server (and PostgreSQL's processes) with the baseline's over
it (the CPU ratio: what the rate ratio tends to when the machine's other load is steady),
and whether the votes and bookmarks stored equal what each reader last said (else it exits 1).
The client is one asyncio process speaking HTTP/1.1 with keep-alive: light enough that the
server, not the client, is what is measured (its own CPU share is printed). Its connections
are spread evenly over the server's workers before the phases start (the split is printed).
"""

import argparse
import asyncio
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SLUGS = [
    "code-llama-4",
    "mistral-3-small-22b",
    "github-copilot",
    "cursor",
    "aider",
    "ollama",
    "vllm",
    "llamacpp",
    "langchain",
    "groq",
]
BENCH_DATABASE = "shiporskip_bench_votes"  # made afresh on the PostgreSQL server
COOKIE = re.compile(rb"(?im)^set-cookie:\s*([^=;\s]+)=([^;\r\n]*)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_postgres(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    return url.rsplit("/", 1)[0] + "/" + BENCH_DATABASE


def environment(db: str, args) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SHIPORSKIP_DATA_DIR"] = tempfile.mkdtemp(prefix="sos-votes-")
    env["SHIPORSKIP_WEB_WORKERS"] = str(args.workers)
    if db == "postgres":
        env["DATABASE_URL"] = fresh_postgres(args.postgres_url)
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    # Limits stay on, so every write pays for its two counters, but set too high to trip.
    for name in ["VOTE", "VOTE_IP", "BOOKMARK", "BOOKMARK_IP"]:
        env[f"SHIPORSKIP_RATE_{name}"] = "1000000/minute"
    env["SHIPORSKIP_PROXY_COUNT"] = "1"
    return env


def cli(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "shiporskip.cli", *args], env=env, check=True, stdout=subprocess.DEVNULL
    )


def up_command(env: dict, port: int) -> list[str]:
    """The web server's command line, from the same function `shiporskip up` uses."""
    code = (
        "import django, json; django.setup(); from shiporskip.cli.serve import web_command; "
        f"print(json.dumps(web_command('127.0.0.1', {port})))"
    )
    env = env | {"DJANGO_SETTINGS_MODULE": "shiporskip.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def start_server(env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = open(Path(env["SHIPORSKIP_DATA_DIR"]) / "web.log", "ab")  # noqa: SIM115 - the server's
    server = subprocess.Popen(
        up_command(env, port), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the web server did not start within 30 s")


class Reader:
    """One reader on one keep-alive connection, with its cookies and CSRF token."""

    def __init__(self, port: int, number: int):
        self.port, self.number = port, number
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.votes: dict[str, str] = {}
        self.marks: dict[str, bool] = {}

    async def open(self) -> None:
        """Connect, as a reader who has voted before: with a session. Without one, GET /me
        reads nothing (no session, so no votes or bookmarks to look up) and the baseline of
        the first round measured another request than the later rounds, after the readers'
        first writes had given them sessions. An unbookmark of a tool never saved makes the
        session and stores nothing."""
        await self.connect()
        self.csrf = json.loads((await self.request("GET", "/me"))[1])["csrf"]
        status, _ = await self.request("POST", f"/tools/{SLUGS[0]}/bookmark", {"bookmarked": 0})
        assert status == 200 and "sessionid" in self.cookies, (status, self.cookies)
        self.marks[SLUGS[0]] = False

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.local_port = self.writer.get_extra_info("sockname")[1]

    async def reconnect(self) -> None:
        self.writer.close()
        await self.connect()

    async def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, bytes]:
        body = urlencode(form).encode() if form is not None else b""
        head = [
            f"{method} {path} HTTP/1.1",
            "Host: 127.0.0.1",
            f"X-Forwarded-For: 10.1.{self.number}.1",
            "Accept: application/json",
        ]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if method == "POST":
            head += [
                f"X-CSRFToken: {self.csrf}",
                "Referer: http://127.0.0.1/",
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
            ]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        headers = await self.reader.readuntil(b"\r\n\r\n")
        status = int(headers[9:12])
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", headers).group(1))
        content = await self.reader.readexactly(length)
        for name, value in COOKIE.findall(headers):
            self.cookies[name.decode()] = value.decode()
        return status, content

    async def run(self, mode: str, until: float, rng: random.Random) -> tuple[int, dict]:
        done, errors = 0, {}
        while time.monotonic() < until:
            if mode == "me":
                status, _ = await self.request("GET", "/me?tools=" + ",".join(SLUGS[:4]))
            elif mode == "vote":
                slug, verdict = rng.choice(SLUGS), rng.choice(["ship", "ship", "skip", "none"])
                status, _ = await self.request("POST", f"/tools/{slug}/vote", {"verdict": verdict})
                if status == 200:
                    self.votes[slug] = verdict
            else:
                slug, on = rng.choice(SLUGS), rng.random() < 0.6
                status, _ = await self.request("POST", f"/tools/{slug}/bookmark", {"bookmarked": int(on)})
                if status == 200:
                    self.marks[slug] = on
            if status != 200:
                errors[status] = errors.get(status, 0) + 1
            else:
                done += 1
        return done, errors


def socket_owners(group: int) -> dict[int, int]:
    """{socket inode: pid} for the processes of a process group (the server and its workers)."""
    owners = {}
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or os.getpgid(int(proc.name)) != group:
                continue
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    owners[int(target[8:-1])] = int(proc.name)
        except OSError:  # gone, or not ours to read
            continue
    return owners


def cpu_snapshot(group: int) -> dict[int, tuple[str, int]]:
    """pid -> ("server" or "database", CPU clock ticks so far, user + system) of the server's
    processes (its process group) and of PostgreSQL's work for the bench: the backends of the
    bench's database and the server's own processes (WAL writer, checkpointer...), not other
    databases' backends. A request's cost in CPU, which the machine's other load moves far
    less than a rate."""
    seen = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            ticks = int(fields[11]) + int(fields[12])
            if int(fields[2]) == group:  # the process group
                seen[int(proc.name)] = ("server", ticks)
            elif stat[stat.index("(") + 1 : stat.rindex(")")].startswith("postgres"):
                # A backend's title names its database and client, "postgres: user db host(port)".
                title = (proc / "cmdline").read_bytes().decode(errors="replace")
                if BENCH_DATABASE in title or "(" not in title:
                    seen[int(proc.name)] = ("database", ticks)
        except (OSError, ValueError):  # gone meanwhile
            continue
    return seen


def cpu_between(before: dict, after: dict) -> tuple[int, int]:
    """(server, database) ticks spent between two snapshots, process by process (a process
    started meanwhile counts from zero; one that ended meanwhile is lost, and is rare: the
    server's processes and its database connections live through a phase)."""
    spent = {"server": 0, "database": 0}
    for pid, (kind, ticks) in after.items():
        spent[kind] += ticks - before.get(pid, (kind, 0))[1]
    return spent["server"], spent["database"]


def worker_of(readers: list[Reader], port: int, group: int) -> dict[Reader, int]:
    """Which server process holds each reader's connection (from /proc/net/tcp: the server's side
    of each connection has the server's port here and the reader's port there)."""
    by_client_port = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], int(fields[9])
        if int(local.split(":")[1], 16) == port:
            by_client_port[int(remote.split(":")[1], 16)] = inode
    owners = socket_owners(group)
    return {r: owners.get(by_client_port.get(r.local_port, -1), 0) for r in readers}


async def balance(readers: list[Reader], port: int, group: int, workers: int) -> str:
    """Spread the readers' connections evenly over the server's worker processes, as long-running
    traffic through a proxy is, and return how many each holds.

    The workers share one listening socket and a keep-alive connection stays with the process
    that accepted it: opened all at once, the connections can land 30 on one worker and 2 on
    the other, and a run then measures one core, the next run two. Connections on a worker with
    more than its share are opened again until the split is even (or 300 tries). Returns the
    split, and the one they were opened with."""
    share = -(-len(readers) // workers)
    splits = []
    for _ in range(300):
        counts: dict[int, list[Reader]] = {}
        for r, pid in worker_of(readers, port, group).items():
            counts.setdefault(pid, []).append(r)
        splits.append("/".join(str(len(rs)) for rs in sorted(counts.values(), key=len, reverse=True)))
        if len(counts) >= workers and all(len(rs) <= share for rs in counts.values()):
            break
        crowded = max(counts.values(), key=len)
        await crowded[-1].reconnect()
        await asyncio.sleep(0.01)  # let the worker that accepted it go back to accept()
    return splits[0] if len(splits) == 1 else f"{splits[-1]} (opened as {splits[0]})"


async def phases(
    port: int, group: int, clients: int, seconds: float, rounds: int, workers: int
) -> tuple[dict, list[Reader], float, str]:
    """Each phase `seconds` long in all, run in `rounds` turns (me, vote, bookmark, me, ...), so
    that a change in the machine's load during the run weighs on every phase alike."""
    readers = [Reader(port, n) for n in range(clients)]
    await asyncio.gather(*(r.open() for r in readers))
    split = await balance(readers, port, group, workers)
    done = dict.fromkeys(("me", "vote", "bookmark"), 0)
    elapsed = dict.fromkeys(done, 0.0)
    errors = {mode: {} for mode in done}
    cpu = 0.0
    ticks = {mode: [0, 0] for mode in done}  # the server's, the database's
    per_round = {mode: [] for mode in done}  # each round's rate: the spread shows the noise
    for turn in range(rounds):
        for mode in done:
            rngs = [random.Random(f"{mode}{turn}:{n}") for n in range(clients)]
            started, cpu_started, ticks_started = time.monotonic(), time.process_time(), cpu_snapshot(group)
            until = started + seconds / rounds
            runs = [r.run(mode, until, rng) for r, rng in zip(readers, rngs, strict=True)]
            results = await asyncio.gather(*runs)
            took = time.monotonic() - started
            elapsed[mode] += took
            cpu = max(cpu, (time.process_time() - cpu_started) / took)
            for i, spent in enumerate(cpu_between(ticks_started, cpu_snapshot(group))):
                ticks[mode][i] += spent
            per_round[mode].append(sum(count for count, _ in results) / took)
            for count, errs in results:
                done[mode] += count
                for status, n in errs.items():
                    errors[mode][status] = errors[mode].get(status, 0) + n
    for r in readers:
        r.writer.close()
    hz = os.sysconf("SC_CLK_TCK")
    per_request = {mode: [t / hz / max(done[mode], 1) * 1e3 for t in ticks[mode]] for mode in done}
    rates = {
        mode: (done[mode] / elapsed[mode], errors[mode], per_request[mode], per_round[mode]) for mode in done
    }
    return rates, readers, cpu, split


def stored(env: dict) -> tuple[dict, set]:
    """Each voter's vote per tool, and each owner's bookmarks, as the database holds them."""
    votes = "SELECT v.voter, t.slug, v.verdict FROM community_vote v JOIN catalog_tool t ON t.id = v.tool_id"
    marks = "SELECT b.owner, t.slug FROM community_bookmark b JOIN catalog_tool t ON t.id = b.tool_id"
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            v, b = conn.execute(votes).fetchall(), conn.execute(marks).fetchall()
    else:
        with sqlite3.connect(Path(env["SHIPORSKIP_DATA_DIR"]) / "shiporskip.sqlite3") as conn:
            v, b = conn.execute(votes).fetchall(), conn.execute(marks).fetchall()
    return {(voter, slug): verdict for voter, slug, verdict in v}, {(owner, slug) for owner, slug in b}


def expected(readers: list[Reader]) -> tuple[dict, dict]:
    """What the readers last said, counted per tool: voters are anonymous, so compare counts."""
    votes, marks = {}, {}
    for r in readers:
        for slug, verdict in r.votes.items():
            if verdict != "none":
                votes[(slug, verdict)] = votes.get((slug, verdict), 0) + 1
        for slug, on in r.marks.items():
            marks[slug] = marks.get(slug, 0) + on
    return votes, {k: v for k, v in marks.items() if v}


def bench(db: str, args) -> bool:
    env = environment(db, args)
    cli(env, "manage", "migrate")
    cli(env, "catalog", "load")
    server, port = start_server(env)
    try:
        rates, readers, client_cpu, split = asyncio.run(
            phases(port, server.pid, args.clients, args.seconds, args.rounds, args.workers)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    votes, marks = stored(env)
    vote_counts, mark_counts = {}, {}
    for (_, slug), verdict in votes.items():
        vote_counts[(slug, verdict)] = vote_counts.get((slug, verdict), 0) + 1
    for _, slug in marks:
        mark_counts[slug] = mark_counts.get(slug, 0) + 1
    want_votes, want_marks = expected(readers)
    exact = vote_counts == want_votes and mark_counts == want_marks
    errors = {mode: errs for mode, (_, errs, *_) in rates.items() if errs}
    log = Path(env["SHIPORSKIP_DATA_DIR"]) / "web.log"
    me = rates["me"][0]
    print(
        f"{db:<9} {args.clients} readers, {args.workers} granian workers, {args.seconds:g} s per phase "
        f"in {args.rounds} rounds, "
        f"client CPU {client_cpu:.0%} of a core{', REDIS_URL set' if args.redis_url else ''}; "
        f"connections per worker {split}"
    )

    def total(mode: str) -> float:  # on SQLite the database is the server's own work
        server, database = rates[mode][2]
        return server + database if db == "postgres" else server

    def cpu(mode: str) -> str:
        shown = f"CPU {total(mode):.2f} ms a request"
        server, database = rates[mode][2]
        return shown + (f" (server {server:.2f}, PostgreSQL {database:.2f})" if db == "postgres" else "")

    print(f"  baseline GET /me     {me:8.1f}/s                          {cpu('me')}")
    me_cpu = total("me")
    for mode in ("vote", "bookmark"):
        rate = rates[mode][0]
        # Each round's ratio, against the baseline's rate in the same round: how far the
        # machine's changing load moved the figure during this run.
        rounds = [w / m for w, m in zip(rates[mode][3], rates["me"][3], strict=True)]
        print(
            f"  POST {mode:<15} {rate:8.1f}/s   ratio {rate / me:.2f} (target 0.80; rounds "
            f"{min(rounds):.2f}-{max(rounds):.2f})   {cpu(mode)}, CPU ratio {me_cpu / total(mode):.2f}"
        )
    print(
        f"  stored: {sum(vote_counts.values())} votes, {len(marks)} bookmarks; "
        f"{'exactly what the readers last said' if exact else 'MISMATCH'}"
        f"{f'; errors by status: {errors} (see {log})' if errors else ''}",
        flush=True,
    )
    if not exact:
        print(
            f"  votes stored {vote_counts} != expected {want_votes}\n"
            f"  bookmarks stored {mark_counts} != expected {want_marks}"
        )
    return exact and not errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", "--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="turns each phase is split into")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
    )
    parser.add_argument("--redis-url", default="", help="count rate limits in Redis (REDIS_URL)")
    args = parser.parse_args()
    ok = [bench(db, args) for db in args.database]
    if not all(ok):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
