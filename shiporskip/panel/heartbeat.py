"""A panel run's process says it is alive, and says so when it is told to stop.

A run beats its heartbeat (`PanelRun.heartbeat_at`) from a thread of its own every
`SHIPORSKIP_HEARTBEAT_SECONDS`, whatever its model calls are doing, so a run whose heartbeat
went silent for `SILENT_BEATS` beats was cut off (SIGKILL, a crash, a lost machine): the
worker's sweep (`running.recover_cut_off`) fails it and queues it again. A process told to
stop (SIGTERM, Ctrl-C) raises `Stopped` where it is; the run then ends failed with the reason
before the process exits.
"""

import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

log = logging.getLogger(__name__)

# Silent this many beats, a run is cut off. Six, not two: one beat may wait out SQLite's
# 20 s busy timeout behind another writer without its run being taken for dead.
SILENT_BEATS = 6


def every() -> float:
    return settings.SHIPORSKIP_HEARTBEAT_SECONDS


def silent_for() -> timedelta:
    """How long a running run's heartbeat may be silent before it is taken for cut off."""
    return timedelta(seconds=SILENT_BEATS * every())


class Heartbeat:
    """Beat a running run's heartbeat from a daemon thread until the block ends."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        # Bounded: a beat blocked behind a lock its caller's transaction holds must not hang us.
        self.thread.join(timeout=every())
        return False

    def _beat(self) -> None:
        from shiporskip.panel.models import PanelRun

        try:
            while not self.done.wait(every()):
                try:
                    alive = PanelRun.objects.filter(pk=self.run_id, status=PanelRun.Status.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception as exc:  # a busy database skips a beat; the next one may pass
                    log.warning("run #%s: heartbeat not written: %s", self.run_id, exc)
                    continue
                if not alive:  # ended, or failed by a sweep: nothing left to keep alive
                    return
        finally:
            connections.close_all()  # this thread's own connections only


class Stopped(BaseException):
    """The process was told to stop by a signal; like KeyboardInterrupt, not an Exception."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    def exit(self) -> None:
        """End the process by its signal, as if unhandled, without waiting for calls in flight.

        A model call blocked on the network in a pool thread would keep a normal exit waiting
        (the interpreter joins those threads) for as long as the call's timeout.
        """
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(self.signum, signal.SIG_DFL)
        os.kill(os.getpid(), self.signum)


def exit_leaving_abandoned_calls(code: int) -> None:
    """Exit now if threads are still at work after the worker stopped without waiting for them.

    The worker's interrupt handler (panel/tasks.py) has failed their runs and queued them
    again; a normal exit would still join their pools' threads, which wait on model calls for
    as long as the calls' timeouts. After a graceful stop no other thread is left.
    """
    main = threading.main_thread()
    if any(t is not main and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def reason(exc: BaseException) -> str:
    """Why a run in this process ended unfinished: the signal that stopped it."""
    return f"{exc if isinstance(exc, Stopped) else 'stopped by SIGINT (Ctrl-C)'} before it finished"


def _raise_stopped(signum, frame):
    raise Stopped(signum)


@contextmanager
def stop_on_signals():
    """Turn SIGTERM and SIGINT into `Stopped` in the main thread, for the block's duration."""
    if threading.current_thread() is not threading.main_thread():  # only it may set handlers
        yield
        return
    stops = (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.signal(signum, _raise_stopped) for signum in stops}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
