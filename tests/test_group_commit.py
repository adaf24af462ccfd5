"""writes.in_turn on SQLite: the writes a process's threads queue meanwhile are made in one
transaction by whichever thread gets the turn, and each request still gets its own result."""

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, OperationalError, connection

from shiporskip import statements
from shiporskip.catalog.models import Tool
from shiporskip.community import writes
from shiporskip.community.models import Vote, vote_write
from tests.community import CODE_LLAMA

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the group commit is SQLite's"),
]
QUEUED = 12


class Turns:
    """One job that holds the turn until QUEUED more are waiting, so that they are all run
    by one thread in one batch; each job notes the thread that ran it."""

    def __init__(self):
        self.started = threading.Event()
        self.ran_on: dict[int, int] = {}
        self.in_transaction: dict[int, bool] = {}
        self.seen_outside: dict[int, int] = {}  # per job: votes another connection saw as it ran

    def first(self) -> int:
        self.started.set()
        for _ in range(3000):  # at most 30 s, on a loaded machine
            if len(writes._waiting) >= QUEUED:
                return -1
            threading.Event().wait(0.01)
        raise AssertionError(f"only {len(writes._waiting)} jobs queued behind the first")

    def submit(self, job_id: int, run) -> tuple[int, object]:
        """In_turn from a thread of its own (and its own connection); (submitting thread, result)."""

        def job():
            self.ran_on[job_id] = threading.get_ident()
            self.in_transaction[job_id] = connection.connection.in_transaction
            self.seen_outside[job_id] = votes_committed()
            return run()

        try:
            try:
                return threading.get_ident(), writes.in_turn(job)
            except ValueError as exc:
                return threading.get_ident(), exc
        finally:
            connection.close()

    def run(self, jobs: list) -> list[tuple[int, object]]:
        with ThreadPoolExecutor(max_workers=QUEUED + 1) as pool:
            holder = pool.submit(self.submit, -1, self.first)
            assert self.started.wait(5)
            rest = [pool.submit(self.submit, n, run) for n, run in enumerate(jobs)]
            assert holder.result()[1] == -1
            return [f.result() for f in rest]


def votes_committed() -> int:
    """The votes a connection of its own sees: those committed."""
    outside = sqlite3.connect(connection.settings_dict["NAME"])
    try:
        return outside.execute("SELECT count(*) FROM community_vote").fetchone()[0]
    finally:
        outside.close()


def vote_job(tool, n: int, *, fail: bool = False):
    write = vote_write(tool.slug, voter=f"a:{n}", verdict="ship")

    def run():
        write.run()
        if fail:
            raise ValueError(f"job {n} failed after its write")
        return n

    return run


def test_queued_writes_are_made_by_one_thread_in_one_batch(seed_pair):
    tool = Tool.objects.get(slug=CODE_LLAMA)
    turns = Turns()
    results = turns.run([vote_job(tool, n) for n in range(QUEUED)])
    assert [result for _, result in results] == list(range(QUEUED))
    # Every queued job was run by the same thread, and for all but (at most) one of them,
    # that was not the thread that asked for it.
    assert len({turns.ran_on[n] for n in range(QUEUED)}) == 1
    assert sum(turns.ran_on[n] != submitter for n, (submitter, _) in enumerate(results)) >= QUEUED - 1
    # ...in one transaction: none of them had committed when the last one ran.
    assert all(turns.in_transaction[n] for n in range(QUEUED))
    assert {turns.seen_outside[n] for n in range(QUEUED)} == {0}
    assert Vote.objects.filter(tool=tool).count() == QUEUED


def test_a_failing_write_fails_only_its_own_request(seed_pair):
    tool = Tool.objects.get(slug=CODE_LLAMA)
    bad = 5
    results = Turns().run([vote_job(tool, n, fail=n == bad) for n in range(QUEUED)])
    for n, (_, result) in enumerate(results):
        if n == bad:
            assert isinstance(result, ValueError) and "job 5 failed" in str(result)
        else:
            assert result == n
    # The failed job's own write was rolled back with it; every other one is there.
    voters = set(Vote.objects.filter(tool=tool).values_list("voter", flat=True))
    assert voters == {f"a:{n}" for n in range(QUEUED) if n != bad}


def test_many_threads_each_get_their_own_result_and_the_queue_ends_empty(seed_pair):
    """More threads than a batch takes, each queueing writes in turn: every one comes back with
    its own result, none waits forever, and no thread is left holding the lead."""
    tool = Tool.objects.get(slug=CODE_LLAMA)
    threads, rounds = writes.BATCH + 16, 5

    def reader(n: int) -> list[int]:
        try:
            return [writes.in_turn(vote_job(tool, n * rounds + r)) for r in range(rounds)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(reader, range(threads)))
    assert results == [[n * rounds + r for r in range(rounds)] for n in range(threads)]
    assert Vote.objects.filter(tool=tool).count() == threads * rounds
    assert writes._waiting == [] and not writes._leading


def test_a_write_on_the_drivers_cursor_fails_with_djangos_errors(seed_pair):
    # statements.fetch skips Django's cursor; run_batch still tells a database gone or locked
    # (OperationalError: every job of the batch fails with it) from one job's own error.
    with pytest.raises(OperationalError, match="no such table"):
        writes.in_turn(lambda: statements.fetch("SELECT * FROM no_such_table WHERE id = %s", [1]))
    tool = Tool.objects.get(slug=CODE_LLAMA)
    with pytest.raises(IntegrityError):
        writes.in_turn(lambda: statements.fetch("INSERT INTO catalog_tool (id) VALUES (%s)", [tool.pk]))
    assert writes._waiting == [] and not writes._leading


def test_the_drivers_cursor_gets_the_placeholders_djangos_would_send(seed_pair):
    sent = statements.qmark("SELECT %s, '100%%', x FROM t WHERE a = %s")
    assert sent == "SELECT ?, '100%', x FROM t WHERE a = ?"
    assert statements.fetch("SELECT %s || '%%', %s", ["50", 2]) == [("50%", 2)]


def test_a_jobs_gate_opened_twice_lets_its_thread_through_once():
    job = writes.Job(lambda: None)
    job.wake()
    job.wake()  # as Event.set() on a set event: no error, and no second pass stored up
    job.sleep()
    passed = threading.Event()
    waiter = threading.Thread(target=lambda: (job.sleep(), passed.set()))
    waiter.start()
    assert not passed.wait(0.2)  # closed behind the first pass
    job.wake()
    assert passed.wait(5)
    waiter.join(5)
