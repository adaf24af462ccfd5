import pytest
from django.db import IntegrityError

from shiporskip.catalog.models import Tool
from shiporskip.catalog.tallies import PanelTally
from shiporskip.panel import backends
from shiporskip.panel.backends.base import ErrorKind, Reviewer, ReviewerError
from shiporskip.panel.backends.offline import OfflineReviewer
from shiporskip.panel.models import PanelRun, Persona, Review
from shiporskip.panel.running import review_tool
from shiporskip.panel.tasks import queue_panel_run, run_panel_task


class FailsOnSkeptic(Reviewer):
    """A registered backend like any other, that fails part-way through a panel."""

    provider = "fails-on-skeptic"

    def review(self, request):
        if request.persona.key == "skeptic":
            raise ReviewerError("the skeptic's call timed out", kind=ErrorKind.TIMEOUT, retryable=True)
        return OfflineReviewer().review(request)


@pytest.fixture
def failing_backend(monkeypatch):
    monkeypatch.setitem(backends.BACKENDS, "fails-on-skeptic", f"{__name__}.FailsOnSkeptic")


@pytest.mark.parametrize(
    ("ship", "skip", "verdict", "share", "label"),
    [
        (3, 1, "Ship", 75, "Ship · 3 ship / 1 skip"),
        (4, 0, "Ship", 100, "Ship · 4 ship / 0 skip"),
        (2, 2, "Split", 50, "Split · 2 ship / 2 skip"),
        (1, 3, "Skip", 25, "Skip · 1 ship / 3 skip"),
        (0, 0, None, None, "Not reviewed yet"),
    ],
)
def test_panel_tally(ship, skip, verdict, share, label):
    tally = PanelTally(ship=ship, skip=skip)
    assert (tally.verdict, tally.ship_share, tally.label) == (verdict, share, label)


def test_a_run_stores_one_review_per_persona_and_becomes_current(seed_pair):
    llama = Tool.objects.with_panel().get(slug="code-llama-4")
    run = llama.current_run
    assert run.status == "done" and run.personas_done == run.personas_total == 4
    assert run.reviews.count() == 4
    ships = run.reviews.filter(verdict="ship").count()
    assert (llama.ship_count, llama.skip_count) == (ships, 4 - ships)
    review = run.reviews.first()
    assert review.model == "offline" and len(review.prompt_version) == 12


def test_a_new_run_replaces_the_current_one_without_double_counting(seed_pair):
    llama = seed_pair[0]
    second = review_tool(tool=llama, model="offline")
    fresh = Tool.objects.with_panel().get(pk=llama.pk)
    assert fresh.current_run == second
    ships = second.reviews.filter(verdict="ship").count()
    assert (fresh.ship_count, fresh.skip_count) == (ships, 4 - ships)
    assert Review.objects.filter(tool=llama).count() == 8


def test_a_failing_persona_stores_nothing(seed_pair, failing_backend):
    llama = seed_pair[0]
    previous = Tool.objects.get(pk=llama.pk).current_run_id
    assert previous is not None
    run = review_tool(tool=llama, model="fails-on-skeptic")
    assert run.status == "failed" and "timed out" in run.error
    assert (run.error_kind, run.public_reason) == ("timeout", "the model server timed out")
    assert not run.reviews.exists()
    assert Tool.objects.get(pk=llama.pk).current_run_id == previous


def test_unknown_backend_fails_the_run_with_the_known_ones(seed_pair):
    run = review_tool(tool=seed_pair[0], model="nonsense/model")
    assert run.status == "failed" and "known providers: llamacpp, llamacpp-server, offline" in run.error
    assert run.error_kind == "not_configured"


def test_one_open_run_per_tool(seed_pair, django_capture_on_commit_callbacks):
    llama = seed_pair[0]
    with django_capture_on_commit_callbacks(execute=False):
        first = queue_panel_run(tool=llama)
        second = queue_panel_run(tool=llama)
    assert first == second and first.status == "queued"
    with pytest.raises(IntegrityError):
        PanelRun.objects.create(tool=llama, model="offline", status="running")


def test_the_worker_task_claims_a_run_once(seed_pair, django_capture_on_commit_callbacks):
    llama = seed_pair[0]
    with django_capture_on_commit_callbacks(execute=False):
        run = queue_panel_run(tool=llama)
    run_panel_task.call_local(run.pk)
    run_panel_task.call_local(run.pk)  # a duplicate delivery finds it claimed
    run.refresh_from_db()
    assert run.status == "done" and run.reviews.count() == 4


def test_queueing_goes_through_the_queue_after_commit(
    seed_pair, django_capture_on_commit_callbacks, settings
):
    tool = seed_pair[1]
    before = tool.current_run_id
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = queue_panel_run(tool=tool)
        assert (PanelRun.objects.get(pk=run.pk).status, run.reviews.count()) == ("queued", 0)
    assert len(callbacks) == 1  # one task, sent once the run's row is committed
    run.refresh_from_db()
    tool.refresh_from_db()
    assert (run.status, run.model, run.error) == ("done", settings.SHIPORSKIP_MODEL, "")
    keys = sorted(run.reviews.values_list("persona__key", flat=True))
    assert keys == sorted(Persona.objects.values_list("key", flat=True)) and len(keys) == 4
    assert tool.current_run_id == run.pk != before  # the tool's page shows this run now


def test_queueing_passes_the_samples_through(seed_pair, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = queue_panel_run(tool=seed_pair[1], model="offline", samples=3)
    run.refresh_from_db()
    assert (run.status, run.samples) == ("done", 3)
    for review in run.reviews.all():
        assert review.samples == 3 and review.score_low <= review.score <= review.score_high


@pytest.mark.parametrize("samples", [0, 11, "3"])
def test_queueing_refuses_a_bad_sample_count(seed_pair, samples):
    with pytest.raises(ValueError, match="from 1 to 10"):
        queue_panel_run(tool=seed_pair[1], model="offline", samples=samples)
    assert not PanelRun.objects.filter(status="queued").exists()


def test_missing_gguf_file_is_a_clear_error(seed_pair):
    run = review_tool(tool=seed_pair[0], model="llamacpp/nowhere/model.gguf")
    assert run.status == "failed" and "no GGUF file there" in run.error


def test_missing_local_extra_is_named(seed_pair, monkeypatch, tmp_path):
    import sys

    from shiporskip.panel.backends import llamacpp

    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if the extra were not installed
    llamacpp.load.cache_clear()
    run = review_tool(tool=seed_pair[0], model=f"llamacpp/{gguf}")
    assert run.status == "failed" and "pip install 'shiporskip[local]'" in run.error


def test_a_hosted_model_without_its_key_fails_at_once(seed_pair, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    run = review_tool(tool=seed_pair[0], model="openai/gpt-4o-mini")
    assert run.status == "failed" and "set OPENAI_API_KEY" in run.error


def test_a_model_name_is_required(seed_pair):
    run = review_tool(tool=seed_pair[0], model="ollama")
    assert run.status == "failed" and "name a model: ollama/<model>" in run.error


def test_review_takes_over_a_queued_run(seed_pair, django_capture_on_commit_callbacks):
    llama = seed_pair[0]
    with django_capture_on_commit_callbacks(execute=False):
        queued = queue_panel_run(tool=llama)
    run = review_tool(tool=llama, model="offline")
    assert run.pk == queued.pk and run.status == "done"


def test_review_refuses_while_a_run_is_in_progress(seed_pair):
    llama = seed_pair[0]
    busy = PanelRun.objects.create(tool=llama, model="offline", status="running")
    with pytest.raises(ReviewerError, match=f"already has panel run #{busy.pk} in progress") as caught:
        review_tool(tool=llama, model="offline")
    assert caught.value.kind == "taken_over"


def test_a_run_is_stored_once_even_if_executed_twice(seed_pair):
    from shiporskip.panel.running import execute, start_run

    run = start_run(tool=seed_pair[0], model="offline", force=True)
    execute(run)
    again = execute(run)  # a second worker with the same run: finds it no longer its own
    assert again.status == "done" and run.reviews.count() == 4


def test_only_silent_running_runs_are_failed_and_run_again(seed_pair):
    import datetime

    from django.utils import timezone

    from shiporskip.panel.tasks import requeue_stale

    old = timezone.now() - datetime.timedelta(seconds=31)  # six 5 s beats missed, and one more
    stale = PanelRun.objects.create(tool=seed_pair[0], model="offline", status="running", heartbeat_at=old)
    live = PanelRun.objects.create(
        tool=seed_pair[1],
        model="offline",
        status="running",
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=20),
    )
    assert requeue_stale() == 1
    stale.refresh_from_db()
    live.refresh_from_db()
    again = PanelRun.objects.filter(tool=seed_pair[0]).latest("id")
    assert (stale.status, stale.error_kind, live.status) == ("failed", "cut_off", "running")
    assert stale.error == f"its process went silent (no heartbeat for 30 s); queued again as run #{again.pk}"
    assert (again.status, again.model) == ("queued", "offline")


def test_unreadable_retry_after_falls_back_on_backoff():
    from types import SimpleNamespace

    from shiporskip.panel.backends.openai_compat import retry_after

    def response(value):
        return SimpleNamespace(headers={"retry-after": value})

    assert retry_after(response("garbage")) is None
    assert retry_after(response("2")) == 2.0
    assert retry_after(response("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0
