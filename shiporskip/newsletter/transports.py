"""Hand one message to a Django email backend, calling `commit()` just before it becomes final.

Over SMTP, a message is delivered only when the server reads the end-of-data mark (a lone
"."); a connection that drops before it leaves no message (RFC 5321, 4.1.1.4). So the body is
sent first, then `commit()` records the delivery as sent, then the mark goes out. A crash before
the commit leaves nothing delivered; only the microseconds between the commit and writing the
five-byte mark can lose a message, and that row stays marked as unconfirmed (see ARCHITECTURE.md).
"""

import email.errors
import re
import smtplib
import socket
from dataclasses import dataclass
from email.utils import parseaddr

from django.core.mail.backends.smtp import EmailBackend as SMTPBackend


class TransientError(Exception):
    """The server or the connection failed in a way a later run can retry.

    `answered` is true when the server replied with a refusal (nothing was delivered), false
    when the connection failed (after the commit, the message may or may not have arrived).
    """

    def __init__(self, text: str, *, answered: bool = False):
        super().__init__(text)
        self.answered = answered


class PermanentError(Exception):
    """The server refused this message for good (a 5xx answer)."""


class MessageError(PermanentError):
    """This message cannot be built (a header with a line break, an address that cannot be
    encoded): it fails alone, before a word of it goes to the server."""


@dataclass(frozen=True)
class Outgoing:
    """One message as it goes out: the envelope and the bytes, plus the message object for
    backends that take one (files, memory) rather than bytes."""

    sender: str
    recipients: list[str]
    data: bytes
    message: object = None
    stuffed: bool = False  # data already has CRLF line ends and leading dots doubled


# Anything below a space, and DEL: never part of an address, and a line break in an envelope
# command would start a command of the reader's choosing.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def envelope_address(address: str) -> str:
    """The bare address for MAIL FROM or RCPT TO: "Name <a@b.example>" -> "a@b.example", with
    the domain in IDNA (ASCII); ValueError for what cannot go in an envelope.

    Our own, rather than Django's internal `sanitize_address`: the envelope needs only the
    addr-spec, and a non-ASCII local part has no envelope form without SMTPUTF8.
    """
    if CONTROL.search(address):
        raise ValueError(f"an address cannot hold control characters or line breaks: {address!r}")
    addr = parseaddr(address)[1]
    local, at, domain = addr.rpartition("@")
    if not (at and local and domain):
        raise ValueError(f"not an email address: {address!r}")
    if not local.isascii():
        raise ValueError(f"the part before @ is not ASCII (the server would need SMTPUTF8): {address!r}")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"the domain of {address!r} cannot be encoded: {exc}") from None
    return f"{local}@{domain}"


def envelope_arg(keyword: str, address: str) -> str:
    """MAIL's or RCPT's argument for a bare address (Outgoing's envelope is envelope_address's,
    or as strict): what smtplib's mail() and rcpt() send, without the parse of a display-name
    address they do for each message, which cost more than the rest of its envelope."""
    if CONTROL.search(address) or "<" in address or ">" in address:
        raise MessageError(f"not a bare address for the envelope: {address!r}")
    return f"{keyword}:<{address}>"


def prepare(message) -> Outgoing:
    """The envelope sender, the recipients and the bytes of the message, or MessageError.

    Built whole before the SMTP conversation (or the commit) starts, so a message that cannot
    be built fails that one delivery and leaves the connection clean for the next reader.
    """
    try:
        return Outgoing(
            envelope_address(message.from_email),
            [envelope_address(address) for address in message.recipients()],
            message.message().as_bytes(linesep="\r\n"),
            message,
        )
    except (ValueError, UnicodeError, LookupError, email.errors.MessageError) as exc:
        # BadHeaderError (a line break in a header) and a malformed address are ValueErrors.
        raise MessageError(f"the message cannot be built: {exc}") from None


def refusal(code: int, reply: bytes) -> Exception:
    text = f"{code} {reply.decode(errors='replace')}"
    return PermanentError(text) if 500 <= code < 600 else TransientError(text, answered=True)


def dot_stuffed(data: bytes) -> bytes:
    """CRLF line ends and leading dots doubled, as smtplib's data() does, without the end mark."""
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class SMTPTransport:
    """One SMTP connection. `hook(point)` is called at each step of a message ("claim",
    "data", "marked", "accepted"): a no-op here, a seam for tests that inject faults."""

    takes_bytes = True  # sends Outgoing.data: no message object needed

    def __init__(self, backend: SMTPBackend, hook=lambda point: None):
        self.backend, self.hook = backend, hook
        self.in_data = False

    def send(self, outgoing: Outgoing, commit) -> str:
        """Send one message; return the server's acceptance, or "" if `commit()` declined."""
        # Each envelope argument checked before any is sent: the connection stays clean.
        sender = envelope_arg("FROM", outgoing.sender)
        recipients = [envelope_arg("TO", address) for address in outgoing.recipients]
        data = outgoing.data
        self.hook("claim")  # claimed, nothing of it sent yet
        conn = self.connection()
        self.io(conn.ehlo_or_helo_if_needed)
        self.command(conn.docmd, "mail", sender)
        for address in recipients:
            self.command(conn.docmd, "rcpt", address, ok=(250, 251))
        self.command(conn.docmd, "data", ok=(354,))
        self.in_data = True
        self.io(conn.send, data if outgoing.stuffed else dot_stuffed(data))
        self.hook("data")
        if not commit():
            self.drop()  # any other way out of DATA would deliver the message
            return ""
        self.hook("marked")
        self.io(conn.send, b".\r\n")
        code, reply = self.io(conn.getreply)
        self.in_data = False
        self.hook("accepted")
        if code != 250:
            raise refusal(code, reply)
        return f"{code} {reply.decode(errors='replace')}"[:200]

    def connection(self) -> smtplib.SMTP:
        conn = self.backend.connection
        if conn is None:
            try:
                self.backend.open()
            except (OSError, smtplib.SMTPException) as exc:
                raise TransientError(f"cannot reach the SMTP server: {exc}") from None
            conn = self.backend.connection
            # open() connects or raises: it is not told to fail silently.
            assert conn is not None and conn.sock is not None
            # The end mark goes out alone after the commit: without this, Nagle's algorithm
            # holds it back until the server's delayed ACK, some 40 ms per message.
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def command(self, method, *args, ok=(250,)):
        code, reply = self.io(method, *args)
        if code not in ok:
            self.io(self.backend.connection.rset)
            raise refusal(code, reply)

    def io(self, method, *args):
        try:
            return method(*args)
        except (OSError, smtplib.SMTPException) as exc:
            self.drop()
            raise TransientError(f"SMTP connection lost: {exc}") from None

    def drop(self):
        """Close the socket without QUIT: the server discards an unfinished message."""
        conn, self.backend.connection = self.backend.connection, None
        self.in_data = False
        if conn is not None and conn.sock is not None:
            conn.sock.close()

    def close(self):
        if self.in_data:  # stopped mid-message: QUIT would be read as part of it
            self.drop()
        self.backend.close()


class BackendTransport:
    """Any other backend (files, memory, console): commit, then hand the message over."""

    takes_bytes = False  # hands the backend Outgoing.message

    def __init__(self, backend, hook=lambda point: None):
        self.backend, self.hook = backend, hook

    def send(self, outgoing: Outgoing, commit) -> str:
        # Built by prepare(): a message that cannot be built is never committed as sent.
        self.hook("claim")
        if not commit():
            return ""
        self.hook("marked")
        self.backend.send_messages([outgoing.message])
        self.hook("accepted")
        return f"handed to {type(self.backend).__module__}"[:200]

    def close(self):
        self.backend.close()


def is_smtp(backend) -> bool:
    return isinstance(backend, SMTPBackend)


def transport_for(backend, hook):
    kind = SMTPTransport if isinstance(backend, SMTPBackend) else BackendTransport
    return kind(backend, hook)
