"""One short write transaction for a reader's vote or bookmark, taken in turn on SQLite.

SQLite has one writer at a time. A writer that finds the lock taken waits in SQLite's busy
handler, which sleeps 1, 2, 5, 10 ms... and looks again: under many concurrent votes most of
a vote's time went to those sleeps while the lock sat free. Here the web processes take turns
on an exclusive `flock` of a file in the data dir first: the kernel wakes the next one the
moment the lock is released, so SQLite's lock is always free when they ask. Other writers
(the worker, sign-ins) still meet SQLite's own lock, as before. PostgreSQL locks rows: the
transaction alone.
"""

import fcntl
import os
import threading
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction

TURN_FILE = "write-turn.lock"
_turn_fd: dict[str, int] = {}
# A flock belongs to the open file, which this process's threads share: they take turns here.
_thread_turn = threading.Lock()


def turn_fd() -> int:
    """This process's descriptor of the turn file (a flock belongs to an open file)."""
    path = str(settings.DATA_DIR / TURN_FILE)
    if path not in _turn_fd:
        _turn_fd[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return _turn_fd[path]


@contextmanager
def write(one_statement: bool = False):
    """transaction.atomic(), taken in turn with the other web processes on SQLite.

    `one_statement`: the block sends one write statement on PostgreSQL (ratelimit.check with
    its write), which is atomic by itself: no BEGIN and COMMIT, two round trips saved.
    """
    if connection.vendor != "sqlite" and one_statement and not connection.in_atomic_block:
        yield
        return
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with _thread_turn:
        fd = turn_fd()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with transaction.atomic():
                yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
