"""The weekly edition at scale: compose and queue it for N subscribers, then deliver over SMTP.

Run: .venv/bin/python bench/newsletter.py [--subscribers 100000] [--messages 2000] [--repeat 3]
         [--connections 1 4] [--smtp-only]
     (SQLite in a temporary data dir; DATABASE_URL=postgres://.../scratch for PostgreSQL: the
     bench creates that database if missing, migrates it and empties its newsletter tables)

Prints, in the same run (medians of --repeat):
  - compose: building the edition from the catalog (46 tools reviewed by the offline panel),
  - queue: one INSERT ... SELECT of a delivery row per subscriber, and a plain bulk_create of
    the same rows as the baseline (ratio < 1 means the queueing is cheaper than the baseline),
  - compose + store + queue, the whole `publish()`, for N subscribers,
  - messages per second to two loopback SMTP servers, each a process of its own that counts
    what it accepts per recipient (each reader must get exactly one): aiosmtpd, the tests'
    server, and bench/smtp_sink.py --fast, a minimal one that does not parse data line by line
    (aiosmtpd spends about 2 ms of its core on each 650-line message, which bounds any sender
    on a 2-core machine). For each: the exactly-once path (claim, send, commit, end) with 1
    and with N SMTP connections (SHIPORSKIP_SMTP_CONNECTIONS), each against the same bytes
    sent bare (no claim, commit or building: what that server takes from a sender doing
    nothing else, measured in the same run) and against the 1,000/s target; and, on aiosmtpd,
    Django's plain send_messages() of the same messages on one connection.
  - what bounds each exactly-once figure: the CPU each message cost the sender's process (its
    threads share one interpreter lock, so it can use at most one core), the SMTP server's
    process, and the rest of the machine (on PostgreSQL, mostly its server processes), read
    from /proc around the run; and how many of the machine's cores were busy. When the busy
    cores are near all of them, the machine is the bound, not any one part.
  - --subscribers sets the table's size: every reader who is not among the --messages sent to
    is unsubscribed, so a commit that looked at every reader would show here.
"""

import argparse
import json
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["SHIPORSKIP_DATA_DIR"] = tempfile.mkdtemp(prefix="sos-bench-")
os.environ["DJANGO_SETTINGS_MODULE"] = "shiporskip.settings"


def ensure_postgres_database(url: str) -> None:
    """Create the scratch database named by a postgres:// DATABASE_URL if it is missing."""
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    ensure_postgres_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.core.mail import get_connection  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from shiporskip.catalog.loading import load_bundled  # noqa: E402
from shiporskip.catalog.models import Tool  # noqa: E402
from shiporskip.newsletter import editions, emails  # noqa: E402
from shiporskip.newsletter.copies import EditionCopies  # noqa: E402
from shiporskip.newsletter.delivery import send_edition  # noqa: E402
from shiporskip.newsletter.models import Delivery, Edition, Subscriber, Suppression  # noqa: E402
from shiporskip.panel.personas import load_personas  # noqa: E402
from shiporskip.panel.running import review_tool  # noqa: E402


def timed(fn, repeat: int, reset=lambda: None) -> float:
    times = []
    for _ in range(repeat):
        reset()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def prepare(subscribers: int) -> None:
    call_command("migrate", interactive=False, verbosity=0)
    for model in (Delivery, Edition, Suppression, Subscriber):
        model.objects.all().delete()
    load_personas()
    load_bundled()
    for tool in Tool.objects.select_related("category").filter(current_run__isnull=True):
        review_tool(tool=tool, model="offline")
    Subscriber.objects.bulk_create(
        (Subscriber(email=f"reader{i}@example.com", status="confirmed") for i in range(subscribers)),
        batch_size=5000,
    )


def reset() -> None:
    Delivery.objects.all().delete()
    Edition.objects.all().delete()


def queue_baseline() -> None:
    """Baseline: the same delivery rows built in Python and written by bulk_create."""
    edition = Edition.objects.create(
        number=999, subject="baseline", html="", text="", period_end=timezone.now()
    )
    ids = Subscriber.objects.receiving().values_list("pk", flat=True).iterator(chunk_size=5000)
    Delivery.objects.bulk_create((Delivery(edition=edition, subscriber_id=i) for i in ids), batch_size=2000)


def bench_queue(repeat: int, subscribers: int) -> None:
    compose = timed(editions.compose, repeat, reset)
    publish = timed(editions.publish, repeat, reset)
    queued = Delivery.objects.count()
    reset()
    edition = Edition.objects.create(number=1, subject="x", html="", text="", period_end=timezone.now())

    def requeue():
        Delivery.objects.all().delete()

    queue = timed(lambda: editions.queue(edition), repeat, requeue)
    baseline = timed(queue_baseline, repeat, reset)
    reset()
    print(f"compose an edition ({Tool.objects.count()} tools):      {compose * 1000:8.1f} ms")
    print(f"queue {queued:,} deliveries (INSERT ... SELECT):  {queue * 1000:8.1f} ms")
    print(
        f"baseline: bulk_create of the same rows:     {baseline * 1000:8.1f} ms  "
        f"(queue / baseline = {queue / baseline:.2f})"
    )
    print(f"compose + store + queue for {subscribers:,} subscribers: {publish * 1000:8.1f} ms")


class SinkProcess:
    """bench/smtp_sink.py in a process of its own, counting messages per recipient: aiosmtpd,
    or with `fast` its minimal server that finds a message's end in whole buffers."""

    def __init__(self, fast: bool = False):
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), *(["--fast"] if fast else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.proc.stdout.readline())

    def ask(self, command: str) -> str:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline()

    def counts(self) -> dict:
        return json.loads(self.ask("count"))

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (every state but idle and iowait)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS


def process_cpu(pid: int) -> float:
    """CPU seconds a live process has used, its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Usage:
    """One run's rate and the CPU it took per message, split by where it was spent."""

    rate: float  # messages/s
    sender: float  # µs of CPU per message in this process (the sender's threads)
    server: float  # µs in the SMTP server's process
    rest: float  # µs everywhere else on the machine (the database server on PostgreSQL)
    cores: float  # cores busy on average during the run

    def ceiling(self) -> float:
        """Messages/s the machine's cores could take at this CPU per message, if none idled."""
        return CORES * 1e6 / (self.sender + self.server + self.rest)

    def bound(self) -> str:
        """What held the run back, read off the figures: whichever came nearest to full, the
        sender's process or the SMTP server's (each can use at most one core: the sender's
        threads share one interpreter lock, the server has one thread) or the machine's cores;
        if none came within 0.75 of full, waiting (commits to disk, the server's replies)."""
        sender, server, ceiling = self.sender * self.rate / 1e6, self.server * self.rate / 1e6, self.ceiling()
        share = f"{self.rate / ceiling:.2f} of the {ceiling:,.0f}/s the cores could take"
        load, what = max(
            (sender, f"the sender's one process ({sender:.2f} of a core)"),
            (server, f"the SMTP server's one process ({server:.2f} of a core)"),
            (
                self.cores / CORES,
                f"the machine's {CORES} cores, shared by the sender, database and SMTP server ({share})",
            ),
        )
        return what if load >= 0.75 else f"waits (commits to disk, the server's replies), not CPU ({share})"

    def __str__(self) -> str:
        return (
            f"CPU per message: sender {self.sender:.0f} µs, SMTP server {self.server:.0f} µs, "
            f"rest of the machine {self.rest:.0f} µs; {self.cores:.2f} of {CORES} cores busy"
        )


def send_once(sink: SinkProcess, keep: list[int], connections: int) -> Usage:
    """Publish an edition to the kept readers, send it over `connections`; return what it took."""
    reset()
    sink.ask("reset")
    with override_settings(SMTP_CONNECTIONS=connections):
        edition = editions.publish()
        before = (time.process_time(), process_cpu(sink.proc.pid), machine_busy())
        started = time.perf_counter()
        send_edition(edition)
        elapsed = time.perf_counter() - started
        after = (time.process_time(), process_cpu(sink.proc.pid), machine_busy())
    check_once(sink, keep, f"{connections} connections")
    sender, server, busy = (b - a for a, b in zip(before, after, strict=True))
    per = 1e6 / len(keep)
    rest = max(0.0, busy - sender - server)
    return Usage(len(keep) / elapsed, sender * per, server * per, rest * per, busy / elapsed)


def check_once(sink: SinkProcess, keep: list[int], what: str) -> None:
    counts = sink.counts()
    readers = dict(Subscriber.objects.filter(pk__in=keep).values_list("email", "pk"))
    if counts != dict.fromkeys(readers, 1):
        twice = sum(n > 1 for n in counts.values())
        got = f"{len(counts)} of {len(readers)} readers got the edition, {twice} more than once"
        raise SystemExit(f"{what}: {got}")


def bare_once(sink: SinkProcess, keep: list[int], copies: list, connections: int) -> float:
    """The same bytes over `connections` plain SMTP connections, each message sent as the
    exactly-once path sends it (MAIL, RCPT, DATA, the data, the end mark) with no claim, commit
    or message building: what this server takes from a sender that does nothing else."""
    sink.ask("reset")
    shares = [copies[i::connections] for i in range(connections)]

    def send(share) -> None:
        with smtplib.SMTP("127.0.0.1", sink.port) as conn:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            for outgoing in share:
                conn.mail(outgoing.sender)
                for address in outgoing.recipients:
                    conn.rcpt(address)
                conn.docmd("data")
                conn.send(outgoing.data)
                conn.send(b".\r\n")
                conn.getreply()

    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    check_once(sink, keep, f"bare SMTP, {connections} connections")
    return len(copies) / elapsed


def bench_smtp(messages: int, connections: list[int], repeat: int) -> None:
    keep = list(Subscriber.objects.order_by("pk").values_list("pk", flat=True)[:messages])
    Subscriber.objects.exclude(pk__in=keep).update(status="unsubscribed")
    reset()
    edition = editions.publish()
    readers = list(Subscriber.objects.filter(pk__in=keep))
    built = EditionCopies(edition)
    copies = [built.for_reader(reader) for reader in readers]
    print(
        f"delivered over loopback SMTP, exactly once, {messages:,} messages of {len(copies[0].data):,} "
        f"bytes, median of {repeat}; each against the same bytes sent bare (no claim, commit or "
        f"building) to the same server in the same run, and against the 1,000/s target:"
    )
    for fast in (False, True):
        sink = SinkProcess(fast=fast)
        smtp = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": sink.port,
        }
        try:
            with override_settings(**smtp):
                name = "bench/smtp_sink.py --fast" if fast else "aiosmtpd (the tests' server)"
                print(f"  server: {name}")
                for n in connections:
                    runs = sorted((send_once(sink, keep, n) for _ in range(repeat)), key=lambda u: u.rate)
                    usage = runs[len(runs) // 2]  # the median run
                    bare = statistics.median(bare_once(sink, keep, copies, n) for _ in range(repeat))
                    print(
                        f"    {n:2d} connection(s): {usage.rate:6.0f} messages/s, bare {bare:6.0f}/s "
                        f"(x{usage.rate / bare:.2f} of bare) | {usage.rate / 1000:.2f} of the 1,000/s "
                        f"target\n        {usage}\n        bound: {usage.bound()}",
                        flush=True,
                    )
                if not fast:
                    reset()
                    edition = editions.publish()
                    plain = [emails.edition(edition, reader) for reader in readers]
                    with get_connection() as conn:
                        started = time.perf_counter()
                        conn.send_messages(plain)
                        rate = messages / (time.perf_counter() - started)
                    print(f"    Django send_messages, one connection, no bookkeeping: {rate:6.0f} messages/s")
        finally:
            sink.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--connections",
        type=int,
        nargs="+",
        default=[1, 4],
        help="SHIPORSKIP_SMTP_CONNECTIONS values to compare (the first is the baseline)",
    )
    parser.add_argument("--smtp-only", action="store_true", help="skip the compose and queue figures")
    args = parser.parse_args()
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    prepare(args.subscribers)
    if not args.smtp_only:
        bench_queue(args.repeat, args.subscribers)
    bench_smtp(args.messages, args.connections, args.repeat)


if __name__ == "__main__":
    main()
