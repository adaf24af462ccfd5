"""`shiporskip digest`: preview and send the weekly edition, suppress addresses, show counts.

The newsletter's modules are imported inside the commands: the parser is built before Django
is set up.
"""

import sys
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Count
from tqdm import tqdm

from shiporskip.cli.base import CLIError, Parser
from shiporskip.control_chars import shown


def add_parser(sub) -> None:
    digest = sub.add_parser("digest", help="preview and send the weekly newsletter, suppress addresses")
    actions = digest.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    preview = actions.add_parser("preview", help="render the next edition; store and send nothing")
    preview.add_argument("--html", metavar="FILE", help="write the HTML part to FILE (- for stdout)")
    preview.add_argument(
        "--text",
        metavar="FILE",
        help="write the plain-text part to FILE (default: stdout unless --html is given)",
    )
    send = actions.add_parser(
        "send", help="send the next edition (or finish one cut off), with a progress bar"
    )
    send.add_argument("--dry-run", action="store_true", help="say what would be sent; store and send nothing")
    suppress = actions.add_parser("suppress", help="never email an address again (bounce, complaint)")
    suppress.add_argument("email", metavar="EMAIL")
    suppress.add_argument(
        "--reason", choices=["bounce", "complaint", "manual"], default="manual", help="why (default manual)"
    )
    actions.add_parser("status", help="subscribers by status, suppressions, recent editions")


def cmd_digest(args) -> int:
    if args.action == "preview":
        return preview(html=args.html, text=args.text)
    if args.action == "send":
        return send(dry_run=args.dry_run)
    if args.action == "suppress":
        return suppress(email=args.email, reason=args.reason)
    return status()


def nothing_new() -> str:
    from shiporskip.newsletter import editions

    last = editions.latest()
    since = f"edition #{last.number}" if last else "the last 7 days (no edition yet)"
    return f"digest: nothing new since {since}; no edition sent"


def where() -> str:
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return f"mail written to files under {settings.EMAIL_FILE_PATH}"
    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        return f"mail sent through {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    return f"mail handed to {settings.EMAIL_BACKEND}"


def write(path: str, content: str) -> None:
    if path == "-":
        sys.stdout.write(content)
        return
    try:
        Path(path).write_text(content)
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror}") from None
    print(f"digest: wrote {path}", file=sys.stderr)


def preview(*, html: str | None, text: str | None) -> int:
    """Render the next edition as a reader would get it; nothing is stored or sent."""
    from shiporskip.newsletter import editions, emails
    from shiporskip.newsletter.models import Edition, Subscriber

    draft = editions.compose()
    if draft is None:
        print(nothing_new())
        return 0
    edition = Edition(number=draft.number, subject=draft.subject, html=draft.html, text=draft.text)
    reader = Subscriber(pk=0, email="reader@example.com", token="PREVIEW")  # noqa: S106 - a placeholder link
    message = emails.edition(edition, reader)
    if html:
        # Django 5.2's alternatives are EmailAlternative named tuples; the stubs say plain tuples.
        write(html, message.alternatives[0].content)  # type: ignore[attr-defined]
    if text or not html:
        write(text or "-", f"Subject: {message.subject}\n\n{message.body}")
    return 0


def send(*, dry_run: bool) -> int:
    """Finish an edition cut off earlier, or publish the next one, and send it with a progress bar."""
    from shiporskip.newsletter import editions
    from shiporskip.newsletter.delivery import DeliveryStopped, EditionFailed, send_edition, tally

    edition = editions.unfinished()
    if dry_run:
        return dry(edition)
    edition = edition or editions.publish()
    if edition is None:
        print(nothing_new())
        return 0
    with tqdm(total=tally(edition).left, unit="email", desc=f"edition #{edition.number}") as bar:
        try:
            result = send_edition(edition, on_message=lambda delivery: bar.update())
        except EditionFailed as exc:
            bar.close()
            print(
                f"shiporskip: digest: edition #{edition.number} “{shown(edition.subject)}” cannot "
                f"be sent to anyone: {shown(str(exc))}; it is marked failed, and the next "
                "edition does not wait for it",
                file=sys.stderr,
            )
            return 1
        except DeliveryStopped as exc:
            bar.close()
            left = tally(edition).left
            print(
                f"shiporskip: digest stopped: {exc}; {left} left to send: run "
                "`shiporskip digest send` again (the worker also retries every 15 minutes)",
                file=sys.stderr,
            )
            return 1
    report(edition, result)
    return 0


def report(edition, result) -> None:
    print(
        f"digest: edition #{edition.number} “{shown(edition.subject)}”: {result.sent} sent in all, "
        f"{result.skipped} skipped (unsubscribed or suppressed), {result.failed} failed"
    )
    for line in failures(edition):
        print(f"digest: {line}")
    if result.sending:
        print(f"digest: {result.sending} being sent by another process; it finishes them")
    if result.unconfirmed:
        print(
            f"digest: {result.unconfirmed} cut off before the server confirmed them: they may not "
            "have arrived, and are not sent again (see docs/ARCHITECTURE.md)"
        )
    print(f"digest: {where()}")


def dry(edition) -> int:
    from shiporskip.newsletter import editions
    from shiporskip.newsletter.delivery import tally
    from shiporskip.newsletter.models import Subscriber

    if edition is not None:
        print(
            f"digest: edition #{edition.number} “{shown(edition.subject)}” is unfinished: "
            f"{tally(edition).left} left to send"
        )
        return 0
    draft = editions.compose()
    if draft is None:
        print(nothing_new())
        return 0
    count = Subscriber.objects.receiving().count()
    print(
        f"digest: would send edition #{draft.number} “{draft.subject}” to {count} subscriber(s) "
        f"({len(draft.content['verdicts'])} verdicts, {len(draft.content['comparisons'])} comparisons)"
    )
    print(f"digest: dry run: nothing stored or sent; {where()} otherwise")
    return 0


def suppress(*, email: str, reason: str) -> int:
    """Never email this address again; subscribing again does not lift it."""
    from shiporskip.newsletter.models import Suppression, normalise

    try:
        validate_email(email.strip())
    except ValidationError:
        raise CLIError(f"{email!r} is not an email address") from None
    row, created = Suppression.objects.get_or_create(email=normalise(email), defaults={"reason": reason})
    state = "suppressed" if created else "already suppressed"
    print(f"digest: {row.email} {state} ({row.reason}); it gets no email from now on")
    return 0


def status() -> int:
    from shiporskip.newsletter.delivery import tally
    from shiporskip.newsletter.models import Edition, Subscriber, Suppression

    counts = dict(Subscriber.objects.values_list("status").annotate(n=Count("pk")))
    print(
        "subscribers: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in Subscriber.Status.values)
        + f"; {Subscriber.objects.receiving().count()} receive editions"
    )
    print(f"suppressed addresses: {Suppression.objects.count()}")
    for edition in Edition.objects.all()[:5]:
        t = tally(edition)
        state = "finished" if edition.finished_at else f"{t.left} left to send"
        if edition.error:
            state = f"FAILED, sent to nobody: {shown(edition.error)}"
        print(
            f"edition #{edition.number} {edition.created_at:%Y-%m-%d}: {t.sent} sent, {t.skipped} skipped, "
            f"{t.failed} failed, {t.unconfirmed} unconfirmed; {state}"
        )
        if not edition.error:  # else every delivery failed for the edition's one reason
            for line in failures(edition):
                print(f"  {line}")
    return 0


def failures(edition, limit: int = 10) -> list[str]:
    """The edition's failed deliveries, one line each with the reason (the first `limit`)."""
    from shiporskip.newsletter.models import Delivery

    failed = edition.deliveries.filter(status=Delivery.Status.FAILED).select_related("subscriber")
    count = failed.count()
    lines = [
        f"failed: {shown(d.subscriber.email)}: {shown(d.error) or 'no reason recorded'}"
        for d in failed.order_by("pk")[:limit]
    ]
    if count > limit:
        lines.append(f"... and {count - limit} more failed")
    return lines
