"""The worker's queue of panel runs: queueing a run (the site, the CLI, `shiporskip up`), the
task that runs it (`running.execute`), and the sweep that fails and queues again runs cut off.

Queueing lives here, with the task it enqueues, so that `running.py` (a run itself) needs
nothing from this module: the dependency points one way.
"""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.signals import SIGNAL_INTERRUPTED

from shiporskip.catalog.models import Tool
from shiporskip.panel import heartbeat, sampling
from shiporskip.panel.backends import get_reviewer
from shiporskip.panel.backends.base import ErrorKind, ReviewerError
from shiporskip.panel.models import PanelRun
from shiporskip.panel.running import claim, end_failed, execute


@db_task(retries=2, retry_delay=5)
def run_panel_task(run_id: int) -> None:
    """Claim and execute one queued run; a duplicate delivery finds it claimed and stops."""
    run = PanelRun.objects.select_related("tool").filter(pk=run_id).first()
    if run and claim(run):
        execute(run)


@db_periodic_task(crontab(minute="*"))
def sweep_cut_off_runs() -> None:
    """Fail and queue again runs whose process went silent (SIGKILL, a crash), so no tool stays locked."""
    requeue_stale()


@HUEY.signal(SIGNAL_INTERRUPTED)
def requeue_interrupted(signal, task) -> None:
    """The worker was told to stop now (SIGTERM, or a second Ctrl-C) with a run in its hands.

    huey then leaves its worker threads to die with the process, so the run is failed with
    the reason and queued again here, before the process exits; the next worker does it.
    """
    if isinstance(task, run_panel_task.task_class):
        requeue_cut_off(task.args[0], "the worker was stopped before it finished")


def queue_panel_run(
    *, tool: Tool, model: str | None = None, force: bool = False, samples: int = 1
) -> PanelRun:
    """Create a queued run for the worker, or return the tool's open one (no double queue)."""
    model = model or settings.SHIPORSKIP_MODEL
    get_reviewer(model)  # fail now, with the backend's message, not later in the worker
    sampling.check_samples(samples)
    try:
        with transaction.atomic():
            run = PanelRun.objects.create(tool=tool, model=model, force=force, samples=samples)
    except IntegrityError:
        open_run = PanelRun.objects.filter(tool=tool, status__in=["queued", "running"]).first()
        if open_run:
            return open_run
        return queue_panel_run(tool=tool, model=model, force=force, samples=samples)  # it ended
    transaction.on_commit(lambda: run_panel_task(run.pk))
    return run


def requeue_stale(now: datetime | None = None) -> int:
    """Fail and queue again the runs cut off by SIGKILL or a crash: those whose heartbeat went silent.

    A live run beats every few seconds however long its model calls take (heartbeat.py), so
    silence means its process is gone. Run by `up` at start and by the worker every minute.
    `now` is the clock's time unless given (a test sweeps as of a moment it chose).
    """
    since = (now or timezone.now()) - heartbeat.silent_for()
    silent = PanelRun.objects.filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=since), status=PanelRun.Status.RUNNING
    )
    reason = f"its process went silent (no heartbeat for {heartbeat.silent_for().total_seconds():g} s)"
    return sum(requeue_cut_off(pk, reason) for pk in silent.values_list("pk", flat=True))


def requeue_cut_off(run_id: int, reason: str) -> bool:
    """Fail a run cut off before it finished, with the reason, and queue the same work again.

    A new run rather than the same one put back: a process that was only frozen and wakes up
    finds its run failed and stores nothing (see `running._store`). False if the run ended meanwhile.
    """
    run = PanelRun.objects.select_related("tool__category").filter(pk=run_id).first()
    if run is None:
        return False
    with transaction.atomic():
        if not end_failed(run.pk, reason, ErrorKind.CUT_OFF):
            return False
        try:
            again = queue_panel_run(tool=run.tool, model=run.model, force=run.force, samples=run.samples)
        except ReviewerError as exc:  # e.g. the model's key was removed since it started
            reason = f"{reason}; not queued again: {exc}"
        else:
            reason = f"{reason}; queued again as run #{again.pk}"
        PanelRun.objects.filter(pk=run.pk).update(error=reason)
    return True
