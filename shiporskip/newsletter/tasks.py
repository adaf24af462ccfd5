"""Worker tasks: confirmation emails, and the weekly edition on its schedule."""

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from shiporskip.newsletter import editions, emails
from shiporskip.newsletter.delivery import DeliveryStopped, EditionFailed, release_stale, send_edition
from shiporskip.newsletter.models import Edition, Subscriber

log = logging.getLogger(__name__)


@db_task(retries=3, retry_delay=60)
def send_confirmation(subscriber_id: int) -> None:
    """Email the confirmation link, unless the address was confirmed in the meantime."""
    sub = Subscriber.objects.filter(pk=subscriber_id).exclude(status=Subscriber.Status.CONFIRMED).first()
    if sub and sub.confirm_nonce:
        emails.confirmation(sub).send()


@db_task(retries=3, retry_delay=60)
def subscribe_address(email: str) -> None:
    """Record a request to subscribe, and queue its confirmation email if one is due.

    Done here, not in the request: a new, a pending, a confirmed and a suppressed address
    take different queries, and timing the answer would tell which one an address is.
    """
    subscriber = Subscriber.objects.subscribe(email)
    if subscriber is not None:
        send_confirmation(subscriber.pk)  # its own task: a failed send is retried alone


def is_digest_time(timestamp: datetime) -> bool:
    """huey's clock reads naive UTC: match the configured weekday and hour in the digest's zone."""
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    local = timestamp.astimezone(ZoneInfo(settings.DIGEST_TIMEZONE))
    return (
        local.strftime("%a").lower() == settings.DIGEST_WEEKDAY
        and local.hour == settings.DIGEST_HOUR
        and local.minute == 0
    )


def send_next(*, compose: bool) -> None:
    """Finish an interrupted edition, or (if `compose`) publish and send the next one."""
    edition = editions.unfinished() or (editions.publish() if compose else None)
    if edition is None:
        return
    try:
        result = send_edition(edition)
    except DeliveryStopped as exc:
        log.warning("edition %s stopped: %s; the next run resumes it", edition.number, exc)
        return
    except EditionFailed:  # logged and marked failed: the next edition does not wait for it
        return
    log.info("edition %s: %s sent, %s left", edition.number, result.sent, result.left)


@db_periodic_task(is_digest_time)
def weekly_digest() -> None:
    send_next(compose=True)


@db_periodic_task(crontab(minute="*/15"))
def resume_digest() -> None:
    """Pick up an edition cut off by a crash or a server outage."""
    send_next(compose=False)


@db_periodic_task(crontab(minute="*"))
def release_cut_off_deliveries() -> None:
    """Put back deliveries claimed by a sender that died (SIGKILL, a crash), and send them now.

    resume_digest would release them too, but only at the next quarter hour; a live sender's
    claims are left alone (delivery.release_stale).
    """
    released = sum(release_stale(edition) for edition in Edition.objects.filter(finished_at__isnull=True))
    if released:
        log.warning("%s delivery(ies) claimed by a sender that stopped were queued again", released)
        resume_digest()  # queued now, not at the next quarter hour
