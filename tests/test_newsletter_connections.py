"""An edition over several SMTP connections at once, and each reader's copy built from one message."""

import email
import re
from email import policy

import pytest
from django.db import connection

from shiporskip.newsletter import editions, emails
from shiporskip.newsletter.copies import EditionCopies
from shiporskip.newsletter.delivery import DeliveryStopped, send_edition, tally
from shiporskip.newsletter.models import Delivery, Edition, Subscriber
from shiporskip.newsletter.transports import (
    MessageError,
    dot_stuffed,
    envelope_address,
    envelope_arg,
    prepare,
)
from tests.smtp import subscribers


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


def same_message(fast: bytes, full: bytes) -> None:
    """The same headers (but the Date and the MIME boundary, which differ per build) and bodies."""
    a, b = parsed(fast), parsed(full)
    skip = {"Date", "Content-Type"}
    assert [(k, str(v)) for k, v in a.items() if k not in skip] == [
        (k, str(v)) for k, v in b.items() if k not in skip
    ]
    assert a.get_content_type() == b.get_content_type()
    parts = lambda m: [(p.get_content_type(), p.get_content()) for p in m.walk() if not p.is_multipart()]  # noqa: E731
    assert parts(a) == parts(b)


@pytest.mark.django_db
def test_a_readers_copy_is_the_message_the_full_build_makes(seed_pair, settings):
    settings.SITE_URL = "https://verdicts.example.com"
    readers = subscribers(3)
    edition = editions.publish()
    copies = EditionCopies(edition)
    assert copies.chunks is not None  # the filled-in path is taken for plain readers
    for reader in readers:
        fast = copies.for_reader(reader)
        full = prepare(emails.edition(edition, reader))
        assert (
            (fast.sender, fast.recipients)
            == (full.sender, full.recipients)
            == ("noreply@localhost", [reader.email])
        )
        assert fast.stuffed and fast.data == dot_stuffed(fast.data.replace(b"\r\n..", b"\r\n."))
        same_message(fast.data.replace(b"\r\n..", b"\r\n."), full.data)
        assert reader.token in fast.data.decode() and "standin" not in fast.data.decode()


@pytest.mark.django_db
def test_readers_the_copy_cannot_serve_get_the_full_build(seed_pair):
    plain, idn, local = subscribers(3)
    Subscriber.objects.filter(pk=idn.pk).update(email="reader@exämple.com")
    Subscriber.objects.filter(pk=local.pk).update(email="rené@example.com")
    idn.refresh_from_db()
    local.refresh_from_db()
    edition = editions.publish()
    copies = EditionCopies(edition)
    assert copies.fits(plain) and not copies.fits(idn) and not copies.fits(local)
    assert copies.for_reader(idn).recipients == ["reader@xn--exmple-cua.com"]
    with pytest.raises(MessageError, match="not ASCII"):  # no envelope form without SMTPUTF8
        copies.for_reader(local)
    # A body line too long for 8bit makes a quoted-printable part: every copy is built whole.
    Edition.objects.filter(pk=edition.pk).update(text="x" * 1200)
    edition.refresh_from_db()
    long = EditionCopies(edition)
    assert long.chunks is None
    same_message(long.for_reader(plain).data, prepare(emails.edition(edition, plain)).data)


def test_envelope_addresses():
    assert envelope_address("Ship or Skip <digest@verdicts.example.com>") == "digest@verdicts.example.com"
    assert envelope_address("reader@exämple.com") == "reader@xn--exmple-cua.com"
    for bad in [
        "reader@example.com\r\nRCPT TO:<victim@example.com>",
        "no-at-sign",
        "rené@example.com",
        "reader@\x00example.com",
    ]:
        with pytest.raises(ValueError):  # noqa: PT011 - the message names the address
            envelope_address(bad)


def test_an_envelope_command_takes_only_a_bare_address():
    assert envelope_arg("FROM", "digest@verdicts.example.com") == "FROM:<digest@verdicts.example.com>"
    for bad in ["a@example.com\r\nRCPT TO:<victim@example.com>", "Name <a@example.com>", "a@example.com>"]:
        with pytest.raises(MessageError):
            envelope_arg("TO", bad)


@pytest.mark.django_db(transaction=True)
def test_four_connections_send_each_reader_one_message(seed_pair, smtp, settings):
    settings.SMTP_CONNECTIONS = 4
    readers = subscribers(230)
    seen = []
    result = send_edition(editions.publish(), on_message=seen.append)
    assert smtp.per_recipient() == {r.email: 1 for r in readers}
    assert (result.sent, result.left, result.unconfirmed) == (230, 0, 0) and len(seen) == 230
    claimers = set(Delivery.objects.values_list("claimed_by", flat=True))
    assert 1 < len(claimers) <= 4  # the connections shared the batches
    assert Edition.objects.get().finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_refusal_on_one_connection_stops_all_and_the_rerun_sends_the_rest_once(seed_pair, smtp, settings):
    settings.SMTP_CONNECTIONS = 3
    readers = subscribers(120)
    original, count = smtp.handle_DATA, {"n": 0}

    async def greylist_the_40th(server, session, envelope):
        count["n"] += 1
        if count["n"] == 40:
            return "451 Try again later"
        return await original(server, session, envelope)

    smtp.handle_DATA = greylist_the_40th
    edition = editions.publish()
    with pytest.raises(DeliveryStopped, match="451 Try again later"):
        send_edition(edition)
    assert Delivery.objects.filter(status="sending").count() == 0  # every claim released
    assert tally(edition).left > 0
    smtp.handle_DATA = original
    assert send_edition(edition).sent == 120
    assert smtp.per_recipient() == {r.email: 1 for r in readers}


@pytest.mark.django_db
def test_inside_a_transaction_one_connection_is_used(seed_pair, smtp, settings):
    """Other threads have their own database connections, which cannot see uncommitted rows."""
    assert connection.in_atomic_block
    settings.SMTP_CONNECTIONS = 4
    subscribers(60)
    assert send_edition(editions.publish()).sent == 60
    assert len(set(Delivery.objects.values_list("claimed_by", flat=True))) == 1
    assert re.fullmatch(r".+@\d+:[0-9a-f]{8}", Delivery.objects.first().claimed_by)
