"""An edition to many subscribers over real SMTP: who gets it, once, with which headers."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shiporskip.cli import main
from shiporskip.newsletter import editions
from shiporskip.newsletter.delivery import next_queued, send_edition, tally
from shiporskip.newsletter.models import Delivery, Edition, Subscriber, Suppression
from shiporskip.panel.models import PanelRun
from tests.community import statements_run
from tests.conftest import panel_label
from tests.smtp import html_part, subscribers, text_part

pytestmark = pytest.mark.django_db


def test_an_edition_reaches_every_confirmed_reader_once_with_unsubscribe_headers(seed_pair, smtp, settings):
    settings.SITE_URL = "https://verdicts.example.com"
    settings.DEFAULT_FROM_EMAIL = "Ship or Skip <digest@verdicts.example.com>"
    readers = subscribers(50)
    subscribers(3, status="pending", prefix="pending")
    subscribers(2, status="unsubscribed", prefix="gone")
    for i in range(2):
        Suppression.objects.create(email=f"reader{i}@example.com", reason="bounce")

    assert main(["digest", "send"]) == 0
    counts = smtp.per_recipient()
    assert counts == {r.email: 1 for r in readers[2:]}
    message = smtp.to("reader7@example.com")[0]
    token = Subscriber.objects.get(email="reader7@example.com").token
    assert message["List-Unsubscribe"].strip() == (
        f"<https://verdicts.example.com/newsletter/unsubscribe/{token}>, "
        f"<mailto:digest@verdicts.example.com?subject=unsubscribe-{token}>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"].startswith("Weekly AI Tool Verdicts #1: ")
    assert re.fullmatch(r"<edition-1\.\d+\.[0-9a-f]{16}@verdicts\.example\.com>", message["Message-ID"])
    assert "Code Llama 4 vs Mistral 3 Small (22B)" in text_part(message)
    html = html_part(message)
    assert "https://verdicts.example.com/compare/code-llama-4-vs-mistral-3-small-22b" in html
    assert f"https://verdicts.example.com/newsletter/unsubscribe/{token}" in html
    assert tally(Edition.objects.get()).sent == 48


def test_an_empty_week_sends_nothing(seed_pair, smtp, capsys):
    subscribers(3)
    assert main(["digest", "send"]) == 0
    assert main(["digest", "send"]) == 0
    assert "nothing new since edition #1" in capsys.readouterr().out
    assert Edition.objects.count() == 1 and len(smtp.messages) == 3


def test_the_next_edition_holds_only_what_is_new(seed_pair, smtp):
    subscribers(2)
    first = editions.publish()
    send_edition(first)
    assert editions.publish() is None
    tool = seed_pair[0]
    PanelRun.objects.filter(tool=tool, status="done").update(finished_at=timezone.now())
    second = editions.publish()
    assert second.number == 2 and [v["slug"] for v in second.content["verdicts"]] == [tool.slug]
    assert second.period_start == first.period_end


def test_a_reader_who_leaves_after_queueing_is_skipped(seed_pair, smtp):
    subscribers(3)
    edition = editions.publish()
    Subscriber.objects.filter(email="reader1@example.com").update(status="unsubscribed")
    Suppression.objects.create(email="reader2@example.com", reason="complaint")
    result = send_edition(edition)
    assert (result.sent, result.skipped) == (1, 2)
    assert list(smtp.per_recipient()) == ["reader0@example.com"]


def test_a_server_refusal_stops_the_run_and_the_rerun_finishes_once(seed_pair, smtp, capsys):
    subscribers(5)
    refused = {"count": 0}
    original = smtp.handle_DATA

    async def greylist_third(server, session, envelope):
        refused["count"] += 1
        if refused["count"] == 3:
            return "451 Try again later"
        return await original(server, session, envelope)

    smtp.handle_DATA = greylist_third
    assert main(["digest", "send"]) == 1
    assert "451 Try again later" in capsys.readouterr().err
    assert Delivery.objects.filter(status="queued").count() == 3
    assert main(["digest", "send"]) == 0
    assert smtp.per_recipient() == {f"reader{i}@example.com": 1 for i in range(5)}
    assert Edition.objects.get().finished_at is not None


def test_a_sender_that_lost_its_claim_does_not_send(seed_pair, smtp):
    subscribers(1)
    edition = editions.publish()
    Delivery.objects.update(
        status="sending", claimed_by="elsewhere@1:x", claimed_at=timezone.now() - timedelta(minutes=11)
    )
    result = send_edition(edition)  # the lease ran out: taken over and sent once
    assert result.sent == 1 and len(smtp.messages) == 1


def test_an_old_sender_cannot_undo_a_row_taken_over_and_sent(seed_pair, smtp):
    from shiporskip.newsletter.copies import EditionCopies
    from shiporskip.newsletter.delivery import DeliveryStopped, deliver
    from shiporskip.newsletter.transports import TransientError

    subscribers(1)
    edition = editions.publish()
    Delivery.objects.update(
        status="sending", claimed_by="old@1:x", claimed_at=timezone.now() - timedelta(minutes=11)
    )
    send_edition(edition)  # a new sender takes the expired claim over and sends

    class RefusingServer:  # the old sender, still alive, now hears "451 try later"
        def send(self, message, commit):
            raise TransientError("451 try later", answered=True)

    with pytest.raises(DeliveryStopped):
        deliver(RefusingServer(), EditionCopies(edition), Delivery.objects.get(), "old@1:x")
    assert Delivery.objects.get().status == "sent" and len(smtp.messages) == 1
    assert editions.publish() is None and send_edition(edition).sent == 1  # nothing to resend


def test_the_archive_shows_what_was_sent_escaped(personas, smtp):
    from shiporskip.catalog.loading import load_bundled
    from shiporskip.catalog.models import Tool
    from shiporskip.panel.running import review_tool

    load_bundled()
    tool = Tool.objects.get(slug="code-llama-4")
    Tool.objects.filter(pk=tool.pk).update(best_for="<script>alert(1)</script>")
    review_tool(tool=Tool.objects.select_related("category").get(pk=tool.pk), model="offline")
    subscribers(1)
    send_edition(editions.publish())
    archive = Client().get("/newsletter/")
    assert "#1: Weekly AI Tool Verdicts #1: Code Llama 4" in archive.content.decode()
    page = Client().get("/newsletter/1").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert Client().get("/newsletter/2").status_code == 404


def test_the_weekly_task_runs_on_the_configured_day_and_hour(settings):
    from huey.contrib.djhuey import HUEY

    from shiporskip.newsletter.tasks import is_digest_time

    settings.DIGEST_WEEKDAY, settings.DIGEST_HOUR, settings.DIGEST_TIMEZONE = "mon", 9, "Europe/Paris"
    winter, summer = datetime(2026, 1, 5, 8, 0), datetime(2026, 7, 6, 7, 0)  # 9:00 in Paris, naive UTC
    assert is_digest_time(winter) and is_digest_time(summer)
    assert not is_digest_time(winter + timedelta(hours=1))
    assert not is_digest_time(winter + timedelta(minutes=1))
    assert not is_digest_time(datetime(2026, 1, 6, 8, 0, tzinfo=UTC))  # a Tuesday
    periodic = {task.name for task in HUEY._registry.periodic_tasks}
    assert {"weekly_digest", "resume_digest"} <= {name.rsplit(".", 1)[-1] for name in periodic}


def test_the_worker_tasks_send_the_edition_and_finish_one_cut_off(seed_pair, smtp):
    from shiporskip.newsletter.tasks import resume_digest, weekly_digest

    subscribers(4)
    resume_digest.call_local()  # nothing cut off: it composes nothing
    assert not Edition.objects.exists()
    weekly_digest.call_local()
    assert len(smtp.messages) == 4
    Subscriber.objects.bulk_create([Subscriber(email="late@example.com", status="confirmed")])
    editions.queue(Edition.objects.get())
    Edition.objects.update(finished_at=None)
    resume_digest.call_local()
    assert smtp.per_recipient() == {**{f"reader{i}@example.com": 1 for i in range(4)}, "late@example.com": 1}
    assert Edition.objects.get().finished_at is not None


def test_preview_dry_run_and_suppress_from_the_cli(seed_pair, tmp_path, capsys):
    subscribers(4)
    html, text = str(tmp_path / "e.html"), str(tmp_path / "e.txt")
    assert main(["digest", "preview", "--html", html, "--text", text]) == 0
    assert "/newsletter/unsubscribe/PREVIEW" in (tmp_path / "e.html").read_text()
    assert "<html" in (tmp_path / "e.html").read_text() and "New verdicts" in (tmp_path / "e.txt").read_text()
    assert main(["digest", "send", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would send edition #1" in out and "to 4 subscriber(s)" in out
    assert not Edition.objects.exists()
    assert main(["digest", "suppress", "Reader0@Example.com", "--reason", "bounce"]) == 0
    assert main(["digest", "suppress", "reader0@example.com"]) == 0
    assert "already suppressed (bounce)" in capsys.readouterr().out
    assert main(["digest", "suppress", "nope"]) == 2
    assert Subscriber.objects.receiving().count() == 3
    Client().post("/newsletter/subscribe", {"email": "reader0@example.com"})
    assert Subscriber.objects.receiving().count() == 3  # subscribing again does not lift it


def test_with_no_smtp_host_mail_goes_to_files_and_the_cli_says_where(seed_pair, settings, tmp_path, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    subscribers(2)
    assert main(["digest", "send"]) == 0
    assert f"mail written to files under {tmp_path / 'mail'}" in capsys.readouterr().out
    written = "".join(p.read_text() for p in (tmp_path / "mail").iterdir())
    assert written.count("List-Unsubscribe-Post: List-Unsubscribe=One-Click") == 2


def test_an_edition_shows_what_readers_voted(seed_pair, smtp):
    from shiporskip.community.models import Vote

    for n, verdict in enumerate(["skip", "skip", "ship"]):
        Vote.objects.cast(tool=seed_pair[0], voter=f"a:{n}", verdict=verdict)
    draft = editions.compose()
    label = panel_label("code-llama-4")
    assert f"Code Llama 4 (Developer Tools): {label}; readers: Skip 67% · 3 votes" in draft.text
    assert "Readers: Skip 67% · 3 votes" in draft.html
    assert "readers:" not in draft.text.split("Mistral 3 Small (22B) (")[1].split("\n")[0]


def test_a_line_break_written_into_a_tool_name_cannot_break_the_digest(seed_pair, smtp, capsys):
    """A CR/LF in a name (written past the loader) used to make `digest send` a traceback, and
    the unfinished edition then blocked every later one. The subject is one line whatever the
    names hold, and no header can be smuggled in through one."""
    from shiporskip.catalog.models import Tool

    Tool.objects.filter(pk=seed_pair[0].pk).update(name="Code Llama 4\r\nBcc: victim@example.com")
    subscribers(3)
    assert main(["digest", "send"]) == 0
    assert smtp.per_recipient() == {f"reader{i}@example.com": 1 for i in range(3)}
    message = smtp.messages[0]
    assert message["Bcc"] is None  # the words stay in the subject, on its one line
    assert message["Subject"].startswith("Weekly AI Tool Verdicts #1: ")
    assert "Code Llama 4 Bcc: victim@example.com" in message["Subject"]
    edition = Edition.objects.get()
    assert "\r" not in edition.subject and "\n" not in edition.subject and edition.finished_at


def test_an_edition_that_cannot_be_built_fails_with_its_reason_and_blocks_nothing(seed_pair, smtp, capsys):
    """An edition stored with a line break in its subject (as the loader once let through) is
    marked failed with the reason; the next edition composes and goes out."""
    subscribers(3)
    stuck = editions.publish()
    Edition.objects.filter(pk=stuck.pk).update(subject="Weekly #1: Evil\r\nBcc: victim@example.com")
    assert main(["digest", "send"]) == 1
    err = capsys.readouterr().err
    assert (
        "shiporskip: digest: edition #1 “Weekly #1: Evil\\x0d\\x0aBcc: victim@example.com” cannot "
        "be sent to anyone: the message cannot be built: Header values can't contain newlines"
    ) in err
    assert "next edition does not wait for it" in err
    stuck.refresh_from_db()
    assert "Header values can't contain newlines" in stuck.error and stuck.finished_at is not None
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}
    assert all(d.error.startswith("edition not sent: ") for d in Delivery.objects.all())
    assert not smtp.messages and editions.unfinished() is None
    assert "Evil" not in Client().get("/newsletter/").content.decode()  # the archive: what was sent
    assert Client().get("/newsletter/1").status_code == 404
    assert main(["digest", "status"]) == 0
    assert "edition #1" in (out := capsys.readouterr().out) and "FAILED, sent to nobody" in out
    assert "can't contain newlines" in out
    PanelRun.objects.filter(tool=seed_pair[0], status="done").update(finished_at=timezone.now())
    assert main(["digest", "send"]) == 0  # the next edition is not held back
    assert Edition.objects.get(number=2).finished_at and len(smtp.messages) == 3


def test_the_worker_marks_an_unbuildable_edition_failed_and_goes_on(seed_pair, smtp):
    from shiporskip.newsletter.tasks import resume_digest, weekly_digest

    subscribers(2)
    stuck = editions.publish()
    Edition.objects.filter(pk=stuck.pk).update(subject="Bad\nSubject")
    resume_digest.call_local()  # used to raise BadHeaderError, every 15 minutes, forever
    assert Edition.objects.get(pk=stuck.pk).error
    PanelRun.objects.filter(tool=seed_pair[0], status="done").update(finished_at=timezone.now())
    weekly_digest.call_local()
    assert Edition.objects.get(number=2).finished_at and len(smtp.messages) == 2


def test_one_reader_whose_message_cannot_be_built_fails_alone(seed_pair, smtp, capsys):
    """An address written past validation with a CR/LF: that delivery fails with the reason,
    the others go out on the same connection."""
    subscribers(4)
    Subscriber.objects.filter(email="reader1@example.com").update(
        email="reader1@example.com\r\nBcc: victim@example.com"
    )
    assert main(["digest", "send"]) == 0
    out = capsys.readouterr().out
    assert "3 sent in all" in out and "1 failed" in out
    assert sorted(smtp.per_recipient()) == [
        "reader0@example.com",
        "reader2@example.com",
        "reader3@example.com",
    ]
    failed = Delivery.objects.get(status="failed")
    assert failed.error.startswith("the message cannot be built: ")
    assert Edition.objects.get().finished_at is not None and not Edition.objects.get().error
    assert main(["digest", "status"]) == 0
    out = capsys.readouterr().out
    assert (
        "1 failed" in out
        and "failed: reader1@example.com\\x0d\\x0aBcc: victim@example.com: the message cannot be built" in out
    )


def test_a_recipient_the_server_refuses_fails_alone_with_the_reason(seed_pair, smtp, capsys):
    async def refuse_reader2(server, session, envelope, address, rcpt_options):
        if address == "reader2@example.com":
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp.handle_RCPT = refuse_reader2
    subscribers(4)
    assert main(["digest", "send"]) == 0
    assert sorted(smtp.per_recipient()) == [
        "reader0@example.com",
        "reader1@example.com",
        "reader3@example.com",
    ]
    assert Delivery.objects.get(status="failed").error == "550 5.1.1 No such user here"
    capsys.readouterr()
    assert main(["digest", "status"]) == 0
    assert "failed: reader2@example.com: 550 5.1.1 No such user here" in capsys.readouterr().out


def test_marking_a_message_sent_reads_its_own_reader_not_every_reader(seed_pair):
    """The commit before each message's end mark asks whether its one reader still receives:
    a statement that listed every reader who receives made an edition's work grow with the
    square of its readers (a scan of 100,000 subscribers per message)."""
    from shiporskip.newsletter.delivery import commit_sql

    sql, receiving, reader = commit_sql(connection.vendor)
    asked = list(receiving)
    asked[reader] = 1
    params = ["sent", timezone.now(), 1, "sending", "me", *asked]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
            assert "SCAN" not in plan, plan  # only SEARCHes: by primary key and unique index
            assert "newsletter_subscriber USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
        else:
            cursor.execute("SET enable_seqscan = off")  # a test's tables are small: ask for the best plan
            cursor.execute(f"EXPLAIN {sql}", params)
            lines = [row[0].strip() for row in cursor.fetchall()]
            cursor.execute("RESET enable_seqscan")
            plan = " | ".join(lines)
            # The reader by primary key, and the address in the suppressions' index, not a list.
            reader = next(i for i, line in enumerate(lines) if " on newsletter_subscriber " in line)
            assert lines[reader + 1] == "Index Cond: (id = 1)", plan
            assert "hashed SubPlan" not in plan and "Seq Scan" not in plan, plan
    assert "newsletter_subscriber" in plan


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_marking_messages_sent_is_planned_once_per_connection_on_postgresql(seed_pair, smtp):
    """The commit before each end mark is a prepared statement with its values bound: planned
    once per connection, not once per message (planning it cost PostgreSQL CPU the sender's
    threads and the database share)."""
    readers = subscribers(3)
    ran, _ = statements_run(lambda: main(["digest", "send"]))
    commits = {sql: n for sql, n in ran.items() if "newsletter_delivery" in sql and "RETURNING" in sql}
    assert list(commits.values()) == [3], ran  # one statement, run once per message
    assert all("%s" not in sql and "$1" in sql for sql in commits), commits
    assert smtp.per_recipient() == {r.email: 1 for r in readers}


@pytest.mark.skipif("connection.vendor != 'postgresql'")
# Autocommit, as a sender runs: inside the test's own transaction the path never ran.
@pytest.mark.django_db(transaction=True)
def test_the_acceptance_skips_the_disk_wait_for_itself_only(seed_pair):
    """record_accepted's synchronous_commit=off is for its own statement: never for a caller's
    transaction, and never left on the connection for the next commit (a delivery's, which
    must wait for the disk before its end mark goes out)."""
    from shiporskip.newsletter.delivery import record_accepted

    subscribers(1)
    delivery = editions.publish().deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(status="sent", claimed_by="me")

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('synchronous_commit')")
            return cursor.fetchone()[0]

    with transaction.atomic(), CaptureQueriesContext(connection) as inside:  # a caller's: left as it is
        record_accepted(delivery, "me", "250 first")
        assert setting() == "on"
    with CaptureQueriesContext(connection) as alone:
        record_accepted(delivery, "me", "250 queued as 42")
    assert setting() == "on"
    assert "synchronous_commit" not in inside.captured_queries[0]["sql"]
    # Alone, it skips the wait: the setting and the update in one round trip.
    assert alone.captured_queries[0]["sql"].startswith("SET LOCAL synchronous_commit = off; UPDATE")
    assert Delivery.objects.get(pk=delivery.pk).accepted == "250 queued as 42"


def test_a_claim_reads_the_queued_rows_in_order_off_an_index(personas):
    """Not the primary key past every row already sent: that made each claim cost more as an
    edition went out (27.6 ms a claim of 50 with 98,000 of 100,000 sent, on PostgreSQL)."""
    edition = Edition.objects.create(number=1, subject="Week 1", html="", text="", period_end=timezone.now())
    readers = subscribers(3000)
    Delivery.objects.bulk_create(
        Delivery(edition=edition, subscriber=reader, status="sent" if n < 2900 else "queued")
        for n, reader in enumerate(readers)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE newsletter_delivery")  # both databases plan from fresh statistics
    plan = next_queued(edition).explain()
    assert "delivery_claim_order" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan and "Filter" not in plan, plan
    assert list(next_queued(edition)) == sorted(d.pk for d in Delivery.objects.filter(status="queued"))[:50]
