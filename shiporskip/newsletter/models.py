"""Subscribers, suppressions, editions and deliveries: the weekly digest's rows."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

CONFIRM_SALT = "shiporskip.newsletter.confirm"
# At most one confirmation email per address in this window, however often the form is sent.
CONFIRM_RESEND_AFTER = timedelta(minutes=5)


def normalise(email: str) -> str:
    """Return the address as stored: trimmed and lower-cased, so case never makes a second row."""
    return email.strip().lower()


def new_token() -> str:
    return secrets.token_urlsafe(24)


class ConfirmError(Exception):
    """A confirmation link that cannot confirm: bad, expired or already used."""


class SubscriberQuerySet(models.QuerySet["Subscriber"]):
    def receiving(self):
        """Confirmed subscribers whose address is not suppressed: the ones an edition goes to.

        NOT EXISTS, each address looked up in the suppressions' unique index: PostgreSQL read a
        NOT IN's whole list into a hash for every statement, one per message sent."""
        suppressed = Suppression.objects.filter(email=OuterRef("email"))
        return self.filter(status=Subscriber.Status.CONFIRMED).exclude(Exists(suppressed))

    # `self` typed by hand: in a custom QuerySet's own methods django-stubs leaves it
    # unparameterised, so `get` would give no Subscriber.
    def subscribe(self: "models.QuerySet[Subscriber]", email: str) -> "Subscriber | None":
        """Record a request to subscribe; return the row if a confirmation email is due now."""
        email = normalise(email)
        if Suppression.objects.filter(email=email).exists():
            return None
        try:
            with transaction.atomic():
                sub, _ = self.get_or_create(email=email)
        except IntegrityError:  # the same address sent twice at once
            sub = self.get(email=email)
        if sub.status == Subscriber.Status.CONFIRMED:
            return None
        # Keep the nonce of a link already sent, so the first email's link still works.
        self.filter(pk=sub.pk, confirm_nonce="").update(confirm_nonce=new_token())
        due = Q(confirm_sent_at__isnull=True) | Q(confirm_sent_at__lt=timezone.now() - CONFIRM_RESEND_AFTER)
        if not self.filter(due, pk=sub.pk).update(confirm_sent_at=timezone.now()):
            return None
        return self.get(pk=sub.pk)


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        CONFIRMED = "confirmed"
        UNSUBSCRIBED = "unsubscribed"

    email = models.EmailField(unique=True, help_text="Stored lower-cased.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # Authorises the one-click unsubscribe link in every edition; never changes.
    token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    # The open confirmation link's nonce; cleared when used, so a link confirms once.
    confirm_nonce = models.CharField(max_length=40, blank=True, editable=False)
    confirm_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return f"{self.email} ({self.status})"

    def save(self, *args, **kwargs):
        self.email = normalise(self.email)
        super().save(*args, **kwargs)

    def confirm_token(self) -> str:
        return signing.dumps({"s": self.pk, "n": self.confirm_nonce}, salt=CONFIRM_SALT)

    def confirm_url(self) -> str:
        return settings.SITE_URL + reverse("newsletter:confirm", args=[self.confirm_token()])

    def unsubscribe_url(self) -> str:
        return settings.SITE_URL + reverse("newsletter:unsubscribe", args=[self.token])

    @classmethod
    def from_confirm_token(cls, token: str) -> tuple["Subscriber", str]:
        """Return the subscriber and nonce a link names; raise ConfirmError if it cannot confirm."""
        try:
            data = signing.loads(token, salt=CONFIRM_SALT, max_age=timedelta(days=settings.CONFIRM_DAYS))
        except signing.SignatureExpired:
            raise ConfirmError("This confirmation link has expired.") from None
        except signing.BadSignature:
            raise ConfirmError("This confirmation link is not valid.") from None
        sub = cls.objects.filter(pk=data.get("s")).first()
        if sub is None or not data.get("n") or sub.confirm_nonce != data["n"]:
            raise ConfirmError("This confirmation link has already been used.")
        return sub, data["n"]

    def confirm(self, nonce: str) -> bool:
        """Confirm once: the nonce is cleared in the same conditional UPDATE."""
        if not nonce:
            return False
        return bool(
            Subscriber.objects.filter(pk=self.pk, confirm_nonce=nonce).update(
                status=self.Status.CONFIRMED,
                confirm_nonce="",
                confirmed_at=timezone.now(),
                unsubscribed_at=None,
            )
        )

    def unsubscribe(self) -> None:
        Subscriber.objects.filter(pk=self.pk).exclude(status=self.Status.UNSUBSCRIBED).update(
            status=self.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now(), confirm_nonce=""
        )


class Suppression(models.Model):
    """An address never mailed again (hard bounce, complaint): kept even if its subscriber goes."""

    class Reason(models.TextChoices):
        BOUNCE = "bounce"
        COMPLAINT = "complaint"
        MANUAL = "manual"

    email = models.EmailField(unique=True)
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.MANUAL)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} ({self.reason})"

    def save(self, *args, **kwargs):
        self.email = normalise(self.email)
        super().save(*args, **kwargs)


class Edition(models.Model):
    number = models.PositiveIntegerField(unique=True)
    subject = models.CharField(max_length=200)
    # The rendered body exactly as sent (without the per-reader footer), and what it was built from.
    html = models.TextField()
    text = models.TextField()
    content = models.JSONField(default=dict)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when no delivery is left queued or in flight.
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why the edition went to nobody (its subject or body cannot make a message); empty if it
    # was sent. A failed edition is finished, so it never holds back the editions after it.
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self):
        return f"#{self.number}: {self.subject}"

    def get_absolute_url(self):
        return reverse("newsletter:edition", args=[self.number])

    @property
    def verdict_count(self) -> int:
        return len(self.content.get("verdicts", []))


class Delivery(models.Model):
    """One edition to one subscriber: claimed before sending, marked after (see docs/ARCHITECTURE.md)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"  # claimed; the end-of-data mark not sent yet, so not delivered
        SENT = "sent"  # committed just before the end-of-data mark
        SKIPPED = "skipped"  # unsubscribed or suppressed after it was queued
        FAILED = "failed"  # refused for good, or its message could not be built: `error` says why

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The server's answer to the end of the message; empty on a sent row means unconfirmed.
    accepted = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["edition", "subscriber"], name="one_delivery_each")]
        # The claim reads an edition's queued rows in id order. Without the id here PostgreSQL
        # walked the primary key past every row already sent: 27.6 ms a claim of 50 with
        # 98,000 of 100,000 sent, 0.055 ms with it (EXPLAIN ANALYZE). SQLite's index ends in
        # the rowid, which is the id, so there it changes nothing.
        indexes = [models.Index(fields=["edition", "status", "id"], name="delivery_claim_order")]

    def __str__(self):
        return f"edition {self.edition_id} to subscriber {self.subscriber_id}: {self.status}"
