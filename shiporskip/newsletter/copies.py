"""Each reader's copy of an edition, built once for a stand-in reader and filled in per reader.

Every copy of an edition differs only in the reader's address (the To header and the
envelope), their unsubscribe token (List-Unsubscribe and both bodies) and the Message-ID made
from it. Building each copy through Django's EmailMessage renders two templates and runs the
email package's generator: most of a sender's time. Here the copy is built once for a
stand-in whose address, token and Message-ID are unique marks, and a reader's copy is those
bytes with the marks replaced. Only where that gives the very message the full build would:
parts sent as 7bit or 8bit (a quoted-printable or base64 part could split a mark), and a
reader whose address is plain ASCII and whose token has the stand-in's length and alphabet
(so no header folds differently). Any other reader gets the full build (`emails.edition`,
then `transports.prepare`), which also refuses what cannot be sent.
"""

import re
import secrets

from shiporskip.newsletter import emails
from shiporskip.newsletter.models import Edition, Subscriber
from shiporskip.newsletter.transports import Outgoing, dot_stuffed, prepare

# An address that reads the same in a header and in the envelope: ASCII, no quoting, no name.
PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?"
)
TOKEN = re.compile(r"[A-Za-z0-9_-]+")
ENCODED_PART = re.compile(rb"(?im)^Content-Transfer-Encoding:\s*(quoted-printable|base64)")
STAND_IN_PK = 987_654_321_012_345


class EditionCopies:
    """Make each reader's Outgoing message of one edition."""

    def __init__(self, edition: Edition):
        self.edition = edition
        token = "S" + secrets.token_hex(16)[:31]  # the length of a real token_urlsafe(24)
        stand_in = Subscriber(
            pk=STAND_IN_PK, email=f"standin-{secrets.token_hex(8)}@reader.invalid", token=token
        )
        self.token_length = len(token)
        self.chunks, self.sender = self.split(stand_in)

    def split(self, stand_in: Subscriber) -> tuple[list | None, str]:
        """The stand-in's message cut at its marks: literal bytes and the names of the marks
        between them; None if the message cannot be filled in safely (every copy is built)."""
        outgoing = prepare(emails.edition(self.edition, stand_in))
        marks = {
            "email": stand_in.email.encode(),
            "token": stand_in.token.encode(),
            "message_id": emails.message_id(self.edition, stand_in).encode(),
        }
        # Dot-stuffed once here rather than per reader: the marks and what replaces them hold
        # no line break and never start a line, so stuffing and filling in commute.
        data = dot_stuffed(outgoing.data)
        if ENCODED_PART.search(data) or not all(mark in data for mark in marks.values()):
            return None, outgoing.sender
        names = {mark: name for name, mark in marks.items()}
        pieces = re.split(b"(" + b"|".join(map(re.escape, marks.values())) + b")", data)
        # Odd positions are the marks; keep them as names to fill in.
        return [names[p] if i % 2 else p for i, p in enumerate(pieces)], outgoing.sender

    def fits(self, subscriber: Subscriber) -> bool:
        return bool(
            self.chunks is not None
            and PLAIN_ADDRESS.fullmatch(subscriber.email)
            and len(subscriber.token) == self.token_length
            and TOKEN.fullmatch(subscriber.token)
        )

    def for_reader(self, subscriber: Subscriber, *, with_message: bool = False) -> Outgoing:
        """The reader's copy; MessageError if it cannot be built (see transports.prepare)."""
        chunks = self.chunks  # `fits` checks it too; read once so the type checker sees it
        if with_message or chunks is None or not self.fits(subscriber):
            return prepare(emails.edition(self.edition, subscriber))
        values = {
            "email": subscriber.email.encode(),
            "token": subscriber.token.encode(),
            "message_id": emails.message_id(self.edition, subscriber).encode(),
        }
        data = b"".join(values[c] if isinstance(c, str) else c for c in chunks)
        return Outgoing(self.sender, [subscriber.email], data, stuffed=True)
