"""Readers' votes and bookmarks written in turn on SQLite, many in one commit.

SQLite has one writer at a time. A writer that finds the lock taken waits in SQLite's busy
handler, which sleeps 1, 2, 5, 10 ms... and looks again: under many concurrent votes most of
a vote's time went to those sleeps while the lock sat free. Here the web processes take turns
on an exclusive `flock` of a file in the data dir first: the kernel wakes the next one the
moment the lock is released, so SQLite's lock is always free when they ask. Other writers
(the worker, sign-ins) still meet SQLite's own lock, as before. PostgreSQL locks rows: the
transaction alone.

Within a process, votes and bookmarks are a group commit (`in_turn`): one thread at a time
leads, running every vote and bookmark its process's threads have queued in one transaction,
and the others wait for their own to be done. With 16 readers voting on each process, each
vote in a transaction of its own held the turn for 0.8 ms, most of it BEGIN, COMMIT and the
flock, each one more wait for the GIL among the other threads.
"""

import fcntl
import os
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction

from shiporskip.statements import driver

TURN_FILE = "write-turn.lock"
_turn_fd: dict[Path, int] = {}  # by data dir
# A flock belongs to the open file, which this process's threads share: they take turns here.
_thread_turn = threading.Lock()
# The most jobs one commit makes: a longer batch would hold the other processes back longer.
BATCH = 64


def turn_fd() -> int:
    """This process's descriptor of the turn file (a flock belongs to an open file)."""
    # Found by the data dir itself: joining the file's path was 4% of a vote's turn (py-spy).
    fd = _turn_fd.get(settings.DATA_DIR)
    if fd is None:
        path = settings.DATA_DIR / TURN_FILE
        fd = _turn_fd[settings.DATA_DIR] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return fd


def takes_turns() -> bool:
    """Whether a write here waits for its turn: on SQLite, unless already inside a transaction
    (which holds the turn, or is a test's)."""
    return connection.vendor == "sqlite" and not connection.in_atomic_block


@contextmanager
def write():
    """transaction.atomic(), taken in turn with the other web processes on SQLite."""
    if not takes_turns():
        with transaction.atomic():
            yield
        return
    with _thread_turn, process_turn(), transaction.atomic():
        yield


@contextmanager
def process_turn():
    """This process's turn among the web processes: an exclusive flock of the turn file."""
    fd = turn_fd()
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def closed_gate() -> Any:
    gate = threading.Lock()
    gate.acquire()
    return gate


@dataclass
class Job:
    """A write waiting for its turn: statements only (it may run on another request's thread,
    on that thread's connection), and what came of it."""

    run: Callable[[], Any]
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    leads: bool = False  # its thread runs the next batch
    # Opened when the job is done or its thread is to lead: each waiting thread is woken for
    # its own job only. One condition for all, notified at each batch's end, woke every waiting
    # thread to find its job still queued: with 16 readers voting on a process, more wake-ups
    # (and GIL hand-overs) than votes. A bare lock, taken at the start, not a threading.Event:
    # an Event is a Condition written in Python, and setting one per job was 2.5% of all the
    # web process's GIL time under bench/votes.py, making and waiting on it 0.8% more
    # (py-spy --gil); its waiter wakes to take the Condition's lock again, one more hand-over.
    gate: Any = field(default_factory=closed_gate)

    def wake(self) -> None:
        """Open the gate, as Event.set(): opening it twice is opening it once."""
        try:  # noqa: SIM105 - not contextlib.suppress: an object made on every wake
            self.gate.release()
        except RuntimeError:  # already open: the woken thread has yet to pass
            pass

    def sleep(self) -> None:
        """Wait until the gate opens and close it behind: Event.wait() and clear() in one."""
        self.gate.acquire()


_waiting: list[Job] = []
_queue = threading.Lock()  # guards _waiting, _leading and each queued job's `leads`
_leading = False


def in_turn(run: Callable[[], Any]) -> Any:
    """run() in a write transaction taken in turn, with the other votes and bookmarks queued
    meanwhile in this process; what it returns, or the error it raised.

    `run` must touch nothing of its request, only send statements. On another database, or
    inside a transaction already, it runs in a transaction (a savepoint) of its own.
    """
    global _leading  # noqa: PLW0603 - one leader per process, under _queue
    if not takes_turns():
        with transaction.atomic():
            return run()
    job = Job(run)
    with _queue:
        _waiting.append(job)
        if not _leading:  # no one leads: this thread does
            _leading = job.leads = True
    while not job.done:
        if job.leads:
            job.leads = False
            try:
                lead()  # the oldest jobs waiting: its own, unless more than BATCH are ahead of it
            except BaseException:
                withdraw(job)  # this thread stops here: its job must not keep the lead
                raise
        else:
            job.sleep()  # a wake-up already seen to is seen to again: the flags decide
    if job.error is not None:
        raise job.error
    return job.result


def withdraw(job: Job) -> None:
    """Take a job that will not be waited for out of the queue, passing on the lead if it had it."""
    global _leading  # noqa: PLW0603 - one leader per process, under _queue
    with _queue:
        if job in _waiting:
            _waiting.remove(job)
        if not job.leads:
            return
        job.leads = False
        following = _waiting[0] if _waiting else None
        if following is None:
            _leading = False
            return
        following.leads = True
    following.wake()


def lead() -> None:
    """Run the oldest jobs waiting in one transaction, then hand the lead to the thread of the
    next job waiting, if any, and wake the threads of the jobs just run."""
    global _leading  # noqa: PLW0603 - one leader per process, under _queue
    with _queue:
        batch = _waiting[:BATCH]
        del _waiting[:BATCH]
    following = None
    try:
        with _thread_turn:  # not during another thread's write() block
            run_batch(batch)
    finally:
        with _queue:
            if _waiting:
                following = _waiting[0]
                following.leads = True
            else:
                _leading = False
        for job in [*batch, *([following] if following else [])]:
            job.wake()


def run_batch(batch: list[Job]) -> None:
    """The jobs in one transaction. If it fails, and more than one job was in it, each is run
    again alone, so that only the job that failed meets its error (a failed transaction left
    nothing behind); but when the database was locked, they all were."""
    for job in batch:  # until it has run: a job cut short (the process stopping) saved nothing
        job.error = RuntimeError("The write was interrupted; nothing was saved. Try again.")
    try:
        with process_turn():
            failed = False
            try:
                with batch_transaction():
                    results = [job.run() for job in batch]
                for job, result in zip(batch, results, strict=True):
                    job.result, job.error = result, None
            except OperationalError as exc:  # the database locked or gone: no use trying again
                for job in batch:
                    job.error = exc
            except Exception as exc:  # noqa: BLE001 - each job's request gets its own error
                if len(batch) == 1:
                    batch[0].error = exc
                else:
                    failed = True
            if failed:  # outside the except: no job's error may carry another one's
                for job in batch:
                    run_alone(job)
    finally:
        for job in batch:
            job.done = True


@contextmanager
def batch_transaction():
    """BEGIN IMMEDIATE ... COMMIT on the driver's connection, in autocommit mode (takes_turns).

    What transaction.atomic() sends, without its bookkeeping (savepoint state, autocommit
    switched off and on, on-commit hooks), which was 1.5% of a vote's GIL time in the web
    process (py-spy --gil): the jobs send statements only, on the driver's cursor."""
    raw = driver()
    with connection.wrap_database_errors:  # sqlite3's errors as Django's, as run_batch expects
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield
            raw.commit()
        except BaseException:
            if raw.in_transaction:  # a failed COMMIT leaves it open; some errors end it
                raw.rollback()
            raise


def run_alone(job: Job) -> None:
    try:
        with transaction.atomic():
            job.result, job.error = job.run(), None
    except Exception as exc:  # noqa: BLE001 - raised in the job's own request
        job.error = exc
