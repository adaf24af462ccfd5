"""A real SMTP server on a loopback port (aiosmtpd), and subscribers built inline."""

import email
import socket
import threading
from email import policy

import pytest

from shiporskip.newsletter.models import Subscriber


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """Records every message the server accepts; `on_data(n)` runs as the nth arrives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.on_data = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            count = len(self.messages)
        if self.on_data:
            self.on_data(count)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def per_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.lock:
            for message in self.messages:
                counts[message["To"]] = counts.get(message["To"], 0) + 1
        return counts


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def smtp(smtp_server, settings):
    """Django's SMTP backend pointed at the loopback server (pytest-django sets locmem)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    return smtp_server


def subscribers(count: int, status: str = "confirmed", prefix: str = "reader") -> list[Subscriber]:
    return Subscriber.objects.bulk_create(
        [Subscriber(email=f"{prefix}{i}@example.com", status=status) for i in range(count)]
    )


def text_part(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()
