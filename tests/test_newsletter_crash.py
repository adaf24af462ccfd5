"""Kill the sender (SIGKILL) at several points of an edition, rerun, and count at the SMTP server."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from shiporskip.newsletter.delivery import tally
from shiporskip.newsletter.models import Delivery, Edition
from tests.smtp import subscribers

pytestmark = pytest.mark.django_db(transaction=True)  # the sender is another process: commit for real
READERS = 30
ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def sender(smtp_server, crash: str = "", connections: int = 1, **extra: str) -> subprocess.Popen:
    """`shiporskip digest send` in its own process, on this test's database and SMTP server;
    with `crash` (POINT:N), it kills itself there (tests/digest_crash.py injects the fault)."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {
        "DATABASE_URL": database_url(),
        "SHIPORSKIP_DATA_DIR": str(settings.DATA_DIR),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "SHIPORSKIP_SMTP_CONNECTIONS": str(connections),
    }
    env |= extra
    command = ["tests.digest_crash", crash] if crash else ["shiporskip.cli", "digest", "send"]
    return subprocess.Popen(
        [sys.executable, "-m", *command],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run(smtp_server, crash: str = "", connections: int = 1) -> tuple[int, str]:
    proc = sender(smtp_server, crash, connections)
    out, _ = proc.communicate(timeout=120)
    return proc.returncode, out


def test_killed_at_every_point_then_rerun_each_reader_gets_exactly_one(seed_pair, smtp_server):
    readers = subscribers(READERS)
    # Between claim and send; with the body sent but not committed; after the server's 250 but
    # before it was recorded: each run is killed partway, and the next one picks up.
    for crash in ("claim:3", "data:4", "accepted:2"):
        code, out = run(smtp_server, crash)
        assert code == -signal.SIGKILL, out
    assert len(smtp_server.messages) == 7

    # Killed from outside, by the server, while the sender waits for the answer to message 10.
    proc = sender(smtp_server)
    smtp_server.on_data = lambda count: proc.send_signal(signal.SIGKILL) if count == 10 else None
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    smtp_server.on_data = None

    code, out = run(smtp_server)
    assert code == 0, out
    assert smtp_server.per_recipient() == {r.email: 1 for r in readers}
    edition = Edition.objects.get()
    result = tally(edition)
    assert (result.sent, result.left, result.unconfirmed) == (READERS, 0, 2)
    assert "2 cut off before the server confirmed them" in out
    assert edition.finished_at is not None
    code, out = run(smtp_server)
    assert "nothing new since edition #1" in out and len(smtp_server.messages) == READERS


def test_the_one_window_left_loses_one_message_and_says_so(seed_pair, smtp_server):
    """Killed between the commit and the five-byte end-of-data mark: documented, not resent."""
    subscribers(5)
    code, out = run(smtp_server, "marked:2")
    assert code == -signal.SIGKILL, out
    code, out = run(smtp_server)
    assert code == 0, out
    assert smtp_server.per_recipient() == {f"reader{i}@example.com": 1 for i in (0, 2, 3, 4)}
    lost = Delivery.objects.get(subscriber__email="reader1@example.com")
    assert (lost.status, lost.accepted) == ("sent", "")
    assert "1 cut off before the server confirmed them" in out


def test_two_senders_at_once_share_the_edition_and_send_each_message_once(seed_pair, smtp_server):
    readers = subscribers(60)
    senders = [sender(smtp_server, SHIPORSKIP_DIGEST_RATE="40") for _ in range(2)]
    outs = []
    for proc in senders:
        out, _ = proc.communicate(timeout=120)
        outs.append(out)
        assert proc.returncode == 0, out
    assert smtp_server.per_recipient() == {r.email: 1 for r in readers}
    assert Edition.objects.count() == 1
    assert len(set(Delivery.objects.values_list("claimed_by", flat=True))) == 2, outs  # both took a share


def test_killed_with_four_connections_in_flight_then_rerun_nobody_gets_two(seed_pair, smtp_server):
    """Four connections at once, killed at each point of one message while the other three are
    anywhere in theirs. Never two copies to anyone; the only reader who may miss the edition
    is one whose row says sent but unconfirmed (the documented window, now per connection)."""
    readers = subscribers(READERS)
    for crash in ("claim:5", "data:9", "accepted:4", "marked:6"):
        code, out = run(smtp_server, crash, connections=4)
        assert code == -signal.SIGKILL, out
        assert max(smtp_server.per_recipient().values()) == 1
    code, out = run(smtp_server, connections=4)
    assert code == 0, out
    got = smtp_server.per_recipient()
    assert set(got.values()) == {1}
    unconfirmed = set(
        Delivery.objects.filter(status="sent", accepted="").values_list("subscriber__email", flat=True)
    )
    assert {r.email for r in readers} - set(got) <= unconfirmed
    assert len(unconfirmed) >= 2  # at least the kills at "accepted" and "marked"
    edition = Edition.objects.get()
    result = tally(edition)
    assert (result.sent, result.left) == (READERS, 0) and edition.finished_at is not None
    assert len(set(Delivery.objects.values_list("claimed_by", flat=True))) > 2  # shared out
