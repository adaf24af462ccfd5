"""Housekeeping the worker does daily: expired sessions and old rate-limit counters."""

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from shiporskip.community.ratelimit import forget_old


@db_periodic_task(crontab(hour="3", minute="17"))
def tidy_up():
    """Drop expired sessions (anonymous voters make one each) and past rate-limit windows."""
    call_command("clearsessions")
    forget_old()
