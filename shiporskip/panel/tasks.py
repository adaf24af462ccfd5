"""Worker tasks: panel runs queued by the site, the CLI and `shiporskip up`; the cut-off sweep."""

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.signals import SIGNAL_INTERRUPTED

from shiporskip.panel.models import PanelRun
from shiporskip.panel.running import claim, execute, requeue_cut_off, requeue_stale


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
