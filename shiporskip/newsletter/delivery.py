"""Send an edition exactly once per subscriber: claim a delivery, send it, commit it, end it.

How a crash at any point is handled is in docs/ARCHITECTURE.md ("Delivery exactly once").
"""

import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db
from django.db import connections, transaction
from django.db.models import Count, Q
from django.utils import timezone

from shiporskip.newsletter.copies import EditionCopies
from shiporskip.newsletter.models import Delivery, Edition, Subscriber
from shiporskip.newsletter.transports import (
    MessageError,
    PermanentError,
    TransientError,
    is_smtp,
    transport_for,
)
from shiporskip.statements import client_side_binding, prepared

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
        unconfirmed=Count("pk", filter=Q(status=Delivery.Status.SENT, accepted="")),
    )
    return Tally(**counts)


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
    claims = (
        edition.deliveries.filter(status=Delivery.Status.SENDING)
        .values_list("claimed_by", "claimed_at")
        .distinct()
    )
    released = 0
    for claimed_by, claimed_at in claims:
        # claim() stamps every claim with its time: `is not None` only tells the type checker.
        if owner_gone(claimed_by) or (claimed_at is not None and claimed_at < timezone.now() - LEASE):
            released += release(edition, claimed_by)
    return released


def release(edition: Edition, claimed_by: str) -> int:
    return edition.deliveries.filter(status=Delivery.Status.SENDING, claimed_by=claimed_by).update(
        status=Delivery.Status.QUEUED, claimed_by="", claimed_at=None
    )


def next_queued(edition: Edition):
    """The ids of the next batch to claim, read in order off the `delivery_claim_order` index."""
    return (
        edition.deliveries.filter(status=Delivery.Status.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )


def claim(edition: Edition, me: str) -> list[Delivery]:
    """Claim the next batch with one conditional UPDATE; a row claimed elsewhere is not ours."""
    while ids := list(next_queued(edition)):
        Delivery.objects.filter(pk__in=ids, status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.SENDING, claimed_by=me, claimed_at=timezone.now()
        )
        batch = list(
            Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENDING, claimed_by=me)
            .select_related("subscriber")
            .order_by("pk")
        )
        if batch:  # else another sender claimed these first: look again
            return batch
    return []


def commit(delivery: Delivery, me: str) -> bool:
    """Mark sent if we still hold the claim and the reader still receives; else don't send."""
    sql, receiving, reader = commit_sql(db.vendor)
    sent_at = Delivery._meta.get_field("sent_at").get_db_prep_value(timezone.now(), db)
    asked = list(receiving)
    asked[reader] = delivery.subscriber_id
    params = [Delivery.Status.SENT, sent_at, delivery.pk, Delivery.Status.SENDING, me, *asked]
    if marked(sql, params):
        return True
    mine = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, claimed_by=me)
    mine.update(status=Delivery.Status.SKIPPED)  # unsubscribed or suppressed since it was queued
    return False


# No subscriber has this id: it marks where commit_sql's subquery takes the reader's.
READER_MARK = -7_000_001


@functools.cache
def commit_sql(vendor: str) -> tuple[str, tuple, int]:
    """commit()'s UPDATE; the parameters of its subquery, whether this one reader receives
    (`Subscriber.objects.receiving()` and the reader's id, compiled by the ORM once per process:
    it holds no time or other value that changes); and where the reader's id goes in them.

    The subquery names the reader: asked of every reader who receives, it listed them all for
    each message (a scan of the subscribers per message sent: at 100,000 readers, an edition's
    work grew with the square of its readers). Built per message through the ORM, this
    statement and `record_accepted`'s cost a message more than its SMTP exchange."""
    one = Subscriber.objects.receiving().filter(pk=READER_MARK).order_by().values("pk")
    receiving, params = one.query.sql_with_params()
    if params.count(READER_MARK) != 1:  # the ORM's output is not ours: check the mark
        raise RuntimeError(f"cannot place the reader in the receiving query: {receiving} {params}")
    table, status, sent_at, claimed_by, subscriber = columns("status", "sent_at", "claimed_by", "subscriber")
    sql = (
        f"UPDATE {table} SET {status} = %s, {sent_at} = %s "  # noqa: S608 - names from the model
        f"WHERE id = %s AND {status} = %s AND {claimed_by} = %s AND {subscriber} IN ({receiving}) "
        "RETURNING id"
    )
    return sql, tuple(params), params.index(READER_MARK)


def columns(*names: str) -> list[str]:
    """The delivery table's quoted name, then each field's quoted column."""
    q = db.ops.quote_name
    fields = {f.name: str(f.column) for f in Delivery._meta.concrete_fields}
    return [q(Delivery._meta.db_table), *(q(fields[n]) for n in names)]


def record_accepted(delivery: Delivery, me: str, accepted: str) -> None:
    """Keep the server's acceptance of a message we sent (while we hold its claim).

    On PostgreSQL without waiting for the disk (synchronous_commit off for this one statement,
    not for a caller's transaction): exactly once rests on the commit before the end mark,
    which waits; this only tells "accepted" from "unconfirmed", and a database crash that lost
    it would leave the message counted unconfirmed, never sent again. Two waits for the disk
    per message held four connections to some 720 messages/s; one, to some 860."""
    sql = accepted_sql(db.vendor)
    if client_side_binding() and not db.in_atomic_block:  # PostgreSQL, one round trip
        sql = f"SET LOCAL synchronous_commit = off; {sql}"
    with db.cursor() as cursor:
        cursor.execute(sql, [accepted, delivery.pk, me])


def marked(sql: str, params: list) -> bool:
    """Run commit()'s UPDATE; whether it marked the row (it returns the row's id if so).

    On PostgreSQL as a prepared statement, planned once per connection rather than once per
    message: it is a message's costliest statement to plan (its subquery), and a sender shares
    the machine's cores with the database. bench/newsletter.py on PostgreSQL, 4 connections to
    the fast sink, two rounds alternated on one 2-core machine: 1,048 and 878 messages/s ->
    1,252 and 938; the database's CPU per message ("rest of the machine") 544 and 748 µs -> 455
    and 519.
    Elsewhere through Django's cursor, whose execute wrapper gives a sending thread its turn on
    SQLite (in_threads).
    """
    if client_side_binding():
        return bool(prepared([(sql, params)])[0])
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.fetchall())


@functools.cache
def accepted_sql(vendor: str) -> str:
    table, column, claimed_by = columns("accepted", "claimed_by")
    return f"UPDATE {table} SET {column} = %s WHERE id = %s AND {claimed_by} = %s"  # noqa: S608 - names


def renew(batch: list[Delivery], me: str) -> None:
    """Extend our lease on the batch, so a slow (throttled) batch is not taken over mid-way."""
    Delivery.objects.filter(
        pk__in=[d.pk for d in batch], status=Delivery.Status.SENDING, claimed_by=me
    ).update(claimed_at=timezone.now())


def build(copies: EditionCopies, subscriber: Subscriber, *, with_message: bool = False):
    """One reader's message; MessageError if it cannot be built (sent to no one)."""
    try:
        return copies.for_reader(subscriber, with_message=with_message)
    except MessageError:
        raise
    except Exception as exc:  # noqa: BLE001 - one reader's message must never stop the others
        log.exception(
            "edition %s: the message to subscriber %s cannot be built", copies.edition.number, subscriber.pk
        )
        raise MessageError(f"the message cannot be built: {exc}") from None


def deliver(transport, copies: EditionCopies, delivery: Delivery, me: str) -> None:
    """Send one delivery and record the outcome; raise DeliveryStopped on a transient failure.

    A message that cannot be built or that the server refuses for good (MessageError,
    PermanentError) fails this delivery with the reason, and the run goes on to the next.
    """
    # Only while we hold the claim: a sender whose lease ran out must not touch a row another
    # sender has since taken over (and perhaps sent). Built when a message fails, not for each.
    row = lambda: Delivery.objects.filter(pk=delivery.pk, claimed_by=me)  # noqa: E731
    try:
        bytes_only = getattr(transport, "takes_bytes", False)  # SMTP: no message object needed
        outgoing = build(copies, delivery.subscriber, with_message=not bytes_only)
        accepted = transport.send(outgoing, lambda: commit(delivery, me))
    except PermanentError as exc:
        row().update(status=Delivery.Status.FAILED, error=str(exc))
        return
    except TransientError as exc:
        if exc.answered:  # the server said "not now": nothing was delivered
            row().update(
                status=Delivery.Status.QUEUED, claimed_by="", claimed_at=None, sent_at=None, error=str(exc)
            )
        else:
            row().update(error=str(exc))
        raise DeliveryStopped(str(exc)) from None
    if accepted:
        record_accepted(delivery, me, accepted)


@dataclass
class Run:
    """What the connections of one `send_edition` share."""

    edition: Edition
    copies: EditionCopies
    on_message: Callable[[Delivery], object]
    pace: float  # seconds between two messages of one connection; 0 for no limit
    stop: threading.Event


def send_share(run: Run, backend) -> None:
    """One connection's share of the run: claim batches under its own name and send them,
    until the queue is empty or another connection stopped the run."""
    me = f"{HOST}@{os.getpid()}:{uuid.uuid4().hex[:8]}"
    transport = transport_for(backend, lambda point: None)
    started, sent = time.monotonic(), 0
    try:
        while not run.stop.is_set() and (batch := claim(run.edition, me)):
            renewed = time.monotonic()
            for delivery in batch:
                if run.stop.is_set():
                    break
                if run.pace:
                    time.sleep(max(0.0, started + sent * run.pace - time.monotonic()))
                if time.monotonic() - renewed > LEASE.total_seconds() / 4:
                    renew(batch, me)
                    renewed = time.monotonic()
                deliver(transport, run.copies, delivery, me)
                sent += 1
                run.on_message(delivery)
    finally:
        release(run.edition, me)  # claimed but never committed: nothing of these went out
        transport.close()


def backends(connection=None) -> list:
    """The email connections to send over: SHIPORSKIP_SMTP_CONNECTIONS of them over SMTP.

    One when the caller passed its own, for a backend other than SMTP, or inside a database
    transaction: another thread has its own database connection, which cannot see rows the
    caller has not committed.
    """
    first = connection or get_connection()
    count = settings.SMTP_CONNECTIONS
    if connection is not None or not is_smtp(first) or db.in_atomic_block:
        count = 1
    return [first] + [get_connection() for _ in range(count - 1)]


def send_edition(edition: Edition, *, on_message=lambda delivery: None, connection=None) -> Tally:
    """Send every queued delivery of the edition, at most DIGEST_RATE a second; return the tally.

    Over SMTP_CONNECTIONS connections at once, each in its own thread with its own claims, as
    separate senders would: each message is still claimed, committed and ended by one of them.
    """
    release_stale(edition)
    try:
        copies = EditionCopies(edition)
    except Exception as exc:  # noqa: BLE001 - any reason it cannot be built fails the edition
        reason = str(exc) if isinstance(exc, MessageError) else f"the message cannot be built: {exc}"
        fail(edition, reason)
        raise EditionFailed(reason) from None
    senders = backends(connection)
    pace = len(senders) / settings.DIGEST_RATE if settings.DIGEST_RATE else 0
    callback = locked(on_message) if len(senders) > 1 else on_message
    run = Run(edition, copies, callback, pace, threading.Event())
    if len(senders) == 1:
        send_share(run, senders[0])
    else:
        in_threads(run, senders)
    finish(edition)
    return tally(edition)


def locked(callback):
    lock = threading.Lock()

    def call(delivery):
        with lock:
            callback(delivery)

    return call


def in_threads(run: Run, senders: list) -> None:
    """Run each connection's share in a thread; the first failure stops them all and is raised."""
    failures = []
    # SQLite takes one writer at a time, and a writer that finds the lock taken backs off in
    # sleeps of milliseconds: the threads take turns per statement instead (each runs in
    # autocommit, so a statement is a transaction). PostgreSQL locks rows: no turns.
    turn = threading.Lock() if db.vendor == "sqlite" else None

    def in_turn(execute, sql, params, many, context):
        with turn:
            return execute(sql, params, many, context)

    def share(backend):
        try:
            with db.execute_wrapper(in_turn) if turn else nullcontext():
                send_share(run, backend)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            failures.append(exc)
            run.stop.set()
        finally:
            connections.close_all()  # this thread's database connections

    threads = [threading.Thread(target=share, args=(b,), name=f"digest-{i}") for i, b in enumerate(senders)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C or a stop signal here: the threads end their message and stop
        run.stop.set()
        for thread in threads:
            thread.join()
        raise
    if failures:
        raise failures[0]


def finish(edition: Edition) -> None:
    if not edition.deliveries.filter(status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING]).exists():
        Edition.objects.filter(pk=edition.pk, finished_at__isnull=True).update(finished_at=timezone.now())


def fail(edition: Edition, reason: str) -> None:
    """Mark the edition failed: its queued deliveries fail with the reason, and it is finished."""
    with transaction.atomic():
        Edition.objects.filter(pk=edition.pk, error="").update(error=reason)
        edition.deliveries.filter(status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.FAILED, error=f"edition not sent: {reason}"
        )
    finish(edition)
    edition.refresh_from_db()
    log.error("edition %s failed, sent to nobody: %s", edition.number, reason)
