"""One function per kind of email, each with an HTML and a plain-text part."""

import hashlib
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from shiporskip.newsletter.models import Edition, Subscriber


def sender_address() -> str:
    """The bare address of DEFAULT_FROM_EMAIL, e.g. noreply@example.com."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"


def build(*, to: str, subject: str, template: str, context: dict, headers=None) -> EmailMultiAlternatives:
    context = {**context, "site_url": settings.SITE_URL}
    text = render_to_string(f"newsletter/email/{template}.txt", context)
    html = render_to_string(f"newsletter/email/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to], headers=headers)
    message.attach_alternative(html, "text/html")
    return message


def confirmation(subscriber: Subscriber) -> EmailMultiAlternatives:
    """The double opt-in email: one link, which shows a button that confirms."""
    return build(
        to=subscriber.email,
        subject="Confirm your subscription to Weekly AI Tool Verdicts",
        template="confirm",
        context={"url": subscriber.confirm_url(), "days": settings.CONFIRM_DAYS},
    )


def message_id(edition: Edition, subscriber: Subscriber) -> str:
    """The same Message-ID for the same edition and reader, so a receiver can drop a copy."""
    digest = hashlib.sha256(f"{edition.pk}:{subscriber.token}".encode()).hexdigest()[:16]
    domain = sender_address().rpartition("@")[2] or "localhost"
    return f"<edition-{edition.number}.{subscriber.pk}.{digest}@{domain}>"


def edition(edition: Edition, subscriber: Subscriber) -> EmailMultiAlternatives:
    """One edition for one reader, with one-click unsubscribe headers (RFC 8058)."""
    url = subscriber.unsubscribe_url()
    headers = {
        "List-Unsubscribe": f"<{url}>, <mailto:{sender_address()}?subject=unsubscribe-{subscriber.token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"Weekly AI Tool Verdicts <verdicts.{sender_address().rpartition('@')[2]}>",
        "Message-ID": message_id(edition, subscriber),
    }
    return build(
        to=subscriber.email,
        subject=edition.subject,
        template="edition",
        headers=headers,
        context={"edition": edition, "unsubscribe_url": url},
    )
