"""Worker tasks: panel runs queued by the site, the CLI and `shiporskip up`."""

from huey.contrib.djhuey import db_task

from shiporskip.panel.models import PanelRun
from shiporskip.panel.running import claim, execute


@db_task(retries=2, retry_delay=5)
def run_panel_task(run_id: int) -> None:
    """Claim and execute one queued run; a duplicate delivery finds it claimed and stops."""
    run = PanelRun.objects.select_related("tool").filter(pk=run_id).first()
    if run and claim(run):
        execute(run)
