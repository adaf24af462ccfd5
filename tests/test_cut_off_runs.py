"""A panel run cut off (SIGTERM, Ctrl-C, SIGKILL) never leaves its tool locked.

Real processes on the test database: `shiporskip review` and `shiporskip worker` ask a
loopback chat server whose replies hang, and are stopped or killed while they wait.
"""

import datetime
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from huey.contrib.djhuey import HUEY

from shiporskip.catalog.models import Tool
from shiporskip.newsletter.models import Delivery
from shiporskip.newsletter.tasks import release_cut_off_deliveries
from shiporskip.panel.heartbeat import silent_for
from shiporskip.panel.models import PanelRun
from shiporskip.panel.running import review_tool
from shiporskip.panel.tasks import queue_panel_run, requeue_stale, sweep_cut_off_runs
from tests.chat_server import PERSONAS, ChatServer
from tests.smtp import subscribers
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)  # the reviewer is another process

MODEL = "openai/test-model"
SLUG = "mistral-3-small-22b"
HANG = 60  # seconds each persona's first call hangs: far longer than any wait below
BEAT = 0.2  # the child processes' heartbeat, in seconds


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def chat(monkeypatch, settings):
    """A chat server whose first call per persona hangs; the calls after it answer at once."""
    server = ChatServer()
    for name in PERSONAS:
        server.script(name, ("hang", HANG))
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)  # for the runs made in this process
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings.SHIPORSKIP_LLM = {**settings.SHIPORSKIP_LLM, "timeout": HANG * 2}
    settings.SHIPORSKIP_HEARTBEAT_SECONDS = BEAT  # the sweep here: silent for 6 x 0.2 s
    yield server
    server.close()


@pytest.fixture
def tool(seed_pair):
    return Tool.objects.select_related("category").get(slug=SLUG)


def shiporskip(chat: ChatServer, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {
        "DATABASE_URL": database_url(),
        "SHIPORSKIP_DATA_DIR": str(settings.DATA_DIR),
        "OPENAI_BASE_URL": chat.url,
        "OPENAI_API_KEY": "sk-test",
        "SHIPORSKIP_TIMEOUT": str(HANG * 2),
        "SHIPORSKIP_HEARTBEAT_SECONDS": str(BEAT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "shiporskip.cli", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def waiting_on_the_model(chat: ChatServer, proc: subprocess.Popen) -> PanelRun:
    """The running run once every persona's call is in flight and hanging."""

    def asking():
        assert proc.poll() is None, proc.stdout.read()
        run = PanelRun.objects.filter(tool__slug=SLUG, status="running").first()
        return run if run and len(chat.requests) == len(PERSONAS) else None

    return wait_for(asking, 60, "the run's calls to reach the model")


def finished(proc: subprocess.Popen, timeout: float) -> str:
    """The process's output once it has exited, well before its hanging calls could end."""
    out, _ = proc.communicate(timeout=timeout)
    return out


def assert_free(tool: Tool) -> None:
    """The tool takes a new run at once, and it completes (the hanging steps are used up)."""
    run = review_tool(tool=tool, model=MODEL)
    assert run.status == "done", run.error


def test_the_heartbeat_advances_while_a_call_is_in_flight_and_the_sweep_leaves_it(chat, tool):
    proc = shiporskip(chat, "review", SLUG, "--model", MODEL)
    try:
        run = waiting_on_the_model(chat, proc)
        first = run.heartbeat_at
        # Past six beats with no call finished: only the heartbeat's own thread writes now.
        later = first + datetime.timedelta(seconds=8 * BEAT)
        wait_for(lambda: PanelRun.objects.get(pk=run.pk).heartbeat_at > later, 20, "the heartbeat to advance")
        run.refresh_from_db()
        assert (run.status, run.personas_done) == ("running", 0), run.progress
        assert set(run.progress.values()) == {"asking"}
        # Sweep as of one beat after the beat just seen, not at whatever moment this loaded
        # machine gets to it: silent since it started (first) the run would be taken; it is not.
        as_of = run.heartbeat_at + datetime.timedelta(seconds=BEAT)
        assert first < as_of - silent_for()
        assert requeue_stale(now=as_of) == 0
        run.refresh_from_db()
        assert run.status == "running"
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_review_marks_its_run_failed_and_frees_the_tool(chat, tool, signum):
    proc = shiporskip(chat, "review", SLUG, "--model", MODEL)
    run = waiting_on_the_model(chat, proc)
    proc.send_signal(signum)
    out = finished(proc, timeout=HANG / 3)  # not waiting out the calls in flight
    assert proc.returncode == -signum, out
    name = signal.Signals(signum).name
    assert f"review: stopped by {name}; a run in progress was marked failed" in out
    run.refresh_from_db()
    assert (run.status, run.error_kind) == ("failed", "cut_off")
    assert run.error.startswith(f"stopped by {name}") and "before it finished" in run.error, run.error
    assert run.public_reason == "the run was cut off before it finished"
    assert not PanelRun.objects.filter(tool=tool, status__in=["queued", "running"]).exists()
    assert_free(tool)


def test_a_killed_review_is_failed_and_queued_again_by_the_sweep(chat, tool):
    proc = shiporskip(chat, "review", SLUG, "--model", MODEL)
    run = waiting_on_the_model(chat, proc)
    proc.send_signal(signal.SIGKILL)
    finished(proc, timeout=10)
    run.refresh_from_db()
    assert run.status == "running"  # nobody said otherwise: only its silence tells

    def swept():
        sweep_cut_off_runs.call_local()  # the worker's periodic task, every minute
        return PanelRun.objects.get(pk=run.pk).status == "failed"

    wait_for(swept, 30, "the sweep to find the run silent")
    run.refresh_from_db()
    again = PanelRun.objects.exclude(pk=run.pk).filter(tool=tool).latest("id")
    assert run.error_kind == "cut_off"
    assert run.error == f"its process went silent (no heartbeat for 1.2 s); queued again as run #{again.pk}"
    # Queued again with the same model; the queue runs inline in tests, and it completes.
    assert (again.model, again.status, again.reviews.count()) == (MODEL, "done", 4), again.error
    assert_free(tool)


def test_a_stopped_worker_fails_its_run_and_queues_it_again(chat, tool):
    proc = shiporskip(chat, "worker")
    HUEY.immediate = False  # queue for the real worker, in the data dir's queue
    try:
        queued = queue_panel_run(tool=tool, model=MODEL)
    finally:
        HUEY.immediate = True
    try:
        run = waiting_on_the_model(chat, proc)
        assert run.pk == queued.pk
        proc.send_signal(signal.SIGTERM)  # a service manager's or a container's stop
        out = finished(proc, timeout=HANG / 3)  # not waiting out the calls in flight
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == 0, out
    run.refresh_from_db()
    again = PanelRun.objects.get(tool=tool, status__in=["queued", "running"])
    assert (run.status, run.error_kind) == ("failed", "cut_off")
    assert run.error == f"the worker was stopped before it finished; queued again as run #{again.pk}"
    assert (again.status, again.model) == ("queued", MODEL)  # for the worker when it is back


def test_deliveries_claimed_by_a_killed_sender_are_sent_by_the_sweep(seed_pair, smtp, smtp_server):
    """The other claimed job: a newsletter sender killed with deliveries claimed."""
    readers = subscribers(6)
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {
        "DATABASE_URL": database_url(),
        "SHIPORSKIP_DATA_DIR": str(settings.DATA_DIR),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "SHIPORSKIP_SMTP_CONNECTIONS": "1",
    }
    # Killed by SIGKILL before message 3 (the fault comes from tests/digest_crash.py).
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.digest_crash", "claim:3"],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = finished(proc, timeout=120)
    assert proc.returncode == -signal.SIGKILL, out
    assert Delivery.objects.filter(status="sending").count() == 4  # claimed, never sent
    release_cut_off_deliveries.call_local()  # the worker's periodic task, every minute
    assert smtp_server.per_recipient() == {r.email: 1 for r in readers}
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
