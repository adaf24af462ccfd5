import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


def rereview(sender, *, tool, change, **kwargs):
    """Queue a re-review of a reviewed tool whose facts changed (a new tool waits for `up`/`add`)."""
    from shiporskip.panel.backends import ReviewerError
    from shiporskip.panel.tasks import queue_panel_run

    if tool.current_run_id is None:
        return
    try:
        queue_panel_run(tool=tool)
    except ReviewerError as exc:  # a misconfigured model must not undo the facts change
        logger.warning("facts of %s changed, but no re-review was queued: %s", tool.slug, exc)


class PanelConfig(AppConfig):
    name = "shiporskip.panel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from shiporskip.catalog.history import facts_changed

        facts_changed.connect(rereview, dispatch_uid="panel-rereview")
