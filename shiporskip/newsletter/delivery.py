"""Send an edition exactly once per subscriber: claim a delivery, send it, commit it, end it.

How a crash at any point is handled is in docs/ARCHITECTURE.md ("Delivery exactly once").
"""

import logging
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from shiporskip.newsletter import emails
from shiporskip.newsletter.models import Delivery, Edition, Subscriber
from shiporskip.newsletter.transports import (
    MessageError,
    PermanentError,
    TransientError,
    prepare,
    transport_for,
)

BATCH = 50
# A claim older than this is taken over even if its sender may be alive: its commit then
# fails (the claim is no longer its), so it never ends the message it was sending.
LEASE = timedelta(minutes=10)
HOST = socket.gethostname()
log = logging.getLogger(__name__)


class DeliveryStopped(Exception):
    """The run stopped on a transient failure; what is left stays queued for the next run."""


class EditionFailed(Exception):
    """The edition cannot be built into a message for anyone; it is marked failed, and finished."""


@dataclass
class Tally:
    queued: int = 0
    sending: int = 0
    sent: int = 0
    unconfirmed: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def left(self) -> int:
        return self.queued + self.sending


def tally(edition: Edition) -> Tally:
    counts = edition.deliveries.aggregate(
        **{s: Count("pk", filter=Q(status=s)) for s in Delivery.Status.values},
        unconfirmed=Count("pk", filter=Q(status=Delivery.Status.SENT, accepted="")))
    return Tally(**counts)


class CrashHook:
    """Test hook: SHIPORSKIP_DIGEST_CRASH_AFTER=point:N kills this process at that point of message N."""

    def __init__(self):
        point, _, number = os.environ.get("SHIPORSKIP_DIGEST_CRASH_AFTER", "").partition(":")
        self.point, self.number, self.count = point, int(number or 0), 0

    def __call__(self, point: str) -> None:
        if point == self.point and self.count == self.number:
            os.kill(os.getpid(), signal.SIGKILL)


def owner_gone(claimed_by: str) -> bool:
    """True if the claim belongs to a process on this machine that no longer runs."""
    host, _, rest = claimed_by.rpartition("@")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def release_stale(edition: Edition) -> int:
    """Requeue deliveries claimed by a sender that died or whose lease ran out.

    Safe because a claimed row was never delivered: the end-of-data mark goes out only after
    the row is committed as sent, by the process holding the claim.
    """
    claims = edition.deliveries.filter(status=Delivery.Status.SENDING).values_list(
        "claimed_by", "claimed_at").distinct()
    released = 0
    for claimed_by, claimed_at in claims:
        if owner_gone(claimed_by) or claimed_at < timezone.now() - LEASE:
            released += release(edition, claimed_by)
    return released


def release(edition: Edition, claimed_by: str) -> int:
    return edition.deliveries.filter(status=Delivery.Status.SENDING, claimed_by=claimed_by).update(
        status=Delivery.Status.QUEUED, claimed_by="", claimed_at=None)


def claim(edition: Edition, me: str) -> list[Delivery]:
    """Claim the next batch with one conditional UPDATE; a row claimed elsewhere is not ours."""
    while ids := list(edition.deliveries.filter(status=Delivery.Status.QUEUED).order_by("pk")
                      .values_list("pk", flat=True)[:BATCH]):
        Delivery.objects.filter(pk__in=ids, status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.SENDING, claimed_by=me, claimed_at=timezone.now())
        batch = list(Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENDING, claimed_by=me)
                     .select_related("subscriber").order_by("pk"))
        if batch:  # else another sender claimed these first: look again
            return batch
    return []


def commit(delivery: Delivery, me: str) -> bool:
    """Mark sent if we still hold the claim and the reader still receives; else don't send."""
    mine = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, claimed_by=me)
    receiving = mine.filter(subscriber__in=Subscriber.objects.receiving())
    if receiving.update(status=Delivery.Status.SENT, sent_at=timezone.now()):
        return True
    mine.update(status=Delivery.Status.SKIPPED)  # unsubscribed or suppressed since it was queued
    return False


def renew(batch: list[Delivery], me: str) -> None:
    """Extend our lease on the batch, so a slow (throttled) batch is not taken over mid-way."""
    Delivery.objects.filter(pk__in=[d.pk for d in batch], status=Delivery.Status.SENDING,
                            claimed_by=me).update(claimed_at=timezone.now())


def build(edition: Edition, subscriber: Subscriber):
    """One reader's message; MessageError if it cannot be built (sent to no one)."""
    try:
        return emails.edition(edition, subscriber)
    except Exception as exc:  # noqa: BLE001 - one reader's message must never stop the others
        log.exception("edition %s: the message to subscriber %s cannot be built",
                      edition.number, subscriber.pk)
        raise MessageError(f"the message cannot be built: {exc}") from None


def deliver(transport, edition: Edition, delivery: Delivery, me: str) -> None:
    """Send one delivery and record the outcome; raise DeliveryStopped on a transient failure.

    A message that cannot be built or that the server refuses for good (MessageError,
    PermanentError) fails this delivery with the reason, and the run goes on to the next.
    """
    # Only while we hold the claim: a sender whose lease ran out must not touch a row another
    # sender has since taken over (and perhaps sent).
    row = Delivery.objects.filter(pk=delivery.pk, claimed_by=me)
    try:
        accepted = transport.send(build(edition, delivery.subscriber), lambda: commit(delivery, me))
    except PermanentError as exc:
        row.update(status=Delivery.Status.FAILED, error=str(exc))
        return
    except TransientError as exc:
        if exc.answered:  # the server said "not now": nothing was delivered
            row.update(status=Delivery.Status.QUEUED, claimed_by="", claimed_at=None, sent_at=None,
                       error=str(exc))
        else:
            row.update(error=str(exc))
        raise DeliveryStopped(str(exc)) from None
    if accepted:
        row.update(accepted=accepted)


def send_edition(edition: Edition, *, on_message=lambda delivery: None, connection=None) -> Tally:
    """Send every queued delivery of the edition, at most DIGEST_RATE a second; return the tally."""
    me = f"{HOST}@{os.getpid()}:{uuid.uuid4().hex[:8]}"
    release_stale(edition)
    if reason := unbuildable(edition):
        fail(edition, reason)
        raise EditionFailed(reason)
    hook = CrashHook()
    transport = transport_for(connection or get_connection(), hook)
    pace = 1 / settings.DIGEST_RATE if settings.DIGEST_RATE else 0
    started = time.monotonic()
    try:
        while batch := claim(edition, me):
            renewed = time.monotonic()
            for delivery in batch:
                hook.count += 1
                hook("claim")
                if pace:
                    time.sleep(max(0.0, started + (hook.count - 1) * pace - time.monotonic()))
                if time.monotonic() - renewed > LEASE.total_seconds() / 4:
                    renew(batch, me)
                    renewed = time.monotonic()
                deliver(transport, edition, delivery, me)
                on_message(delivery)
    finally:
        release(edition, me)  # claimed but never committed: nothing of these went out
        transport.close()
    finish(edition)
    return tally(edition)


def finish(edition: Edition) -> None:
    if not edition.deliveries.filter(status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING]).exists():
        Edition.objects.filter(pk=edition.pk, finished_at__isnull=True).update(finished_at=timezone.now())


def unbuildable(edition: Edition) -> str | None:
    """Why this edition cannot make a message for any reader (its subject, its body), or None.

    Tried on a stand-in reader before any delivery is claimed: an edition stored with a line
    break in its subject would otherwise fail every reader, or (before this check) stop every
    run with a traceback while the worker resumed it forever, ahead of every later edition.
    """
    reader = Subscriber(pk=0, email="reader@example.com", token="CHECK")  # noqa: S106 - not a secret
    try:
        prepare(build(edition, reader))
    except MessageError as exc:
        return str(exc)
    return None


def fail(edition: Edition, reason: str) -> None:
    """Mark the edition failed: its queued deliveries fail with the reason, and it is finished."""
    with transaction.atomic():
        Edition.objects.filter(pk=edition.pk, error="").update(error=reason)
        edition.deliveries.filter(status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.FAILED, error=f"edition not sent: {reason}")
    finish(edition)
    edition.refresh_from_db()
    log.error("edition %s failed, sent to nobody: %s", edition.number, reason)
