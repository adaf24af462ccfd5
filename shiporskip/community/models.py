"""Readers' ship/skip votes and bookmarks, one row per voter and tool; sign-ups and lockouts."""

import functools
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from shiporskip.catalog.models import FOR_WRITE_SQL
from shiporskip.statements import fetch_all


class Verdict(models.TextChoices):
    SHIP = "ship", "Ship"
    SKIP = "skip", "Skip"


@dataclass
class Write:
    """One write statement, run only where a condition holds: its SQL says `{allowed}` where
    the condition goes, after all of its own placeholders. Run alone, the condition is TRUE;
    a rate limit puts its own there, so that on PostgreSQL the counters and the write are one
    statement (community/ratelimit.py).

    `read`, if given, is a query run right after the write, in its transaction, whose rows the
    request answers with (a vote's new tally): `rows` holds them once run. They say nothing of
    whether the write was made: with the rate counters in the database the read also runs when
    a rate limit refused it (on PostgreSQL it shares the counters' round trip, `run_sql`; on
    SQLite it carries the counts back, `ratelimit.counted_then_written`); with them in Redis it
    runs only with the write."""

    sql: str
    params: list
    read: tuple[str, list] | None = None
    rows: list | None = None
    # A condition without which the rate counters count nothing, as the write writes nothing:
    # a vote for a tool that does not exist is not counted either (ratelimit.database_hits).
    needs: tuple[str, list] | None = None

    def run(self) -> None:
        self.run_sql(self.sql.replace("{allowed}", "TRUE"), self.params)

    def run_sql(self, sql: str, params: list) -> list:
        """Run `sql` (this write, as is or inside a larger statement) and then the read, and
        return the rows `sql` gave, both in one transaction: on PostgreSQL (with Django's
        client-side binding) one round trip, on SQLite the group commit's (statements.fetch_all)."""
        rows, *read = fetch_all([(sql, params), *([self.read] if self.read is not None else [])])
        if read:
            self.rows = read[0]
        return rows


# A vote or bookmark names its tool by slug; its statement finds the tool (upsert, delete_one).
TOOL_BY_SLUG = "SELECT id FROM catalog_tool WHERE slug = %s"


def upsert(model, slug: str, values: dict, unique: list[str], update: list[str]) -> Write:
    """One INSERT ... ON CONFLICT statement for one row about the tool `slug` (a vote or a
    bookmark), on SQLite and PostgreSQL alike.

    The statement finds the tool by its slug itself: a write for a tool that does not exist
    writes nothing, and no lookup goes before it (on PostgreSQL, one round trip less per vote).
    What bulk_create(update_conflicts=...) sends, without its per-call model machinery, which
    cost more than the statement on the hot path of a vote. Names come from the model, values
    are bound; an empty `update` means DO NOTHING.
    """
    sql, fields = upsert_sql(connection.vendor, model, tuple(values), tuple(unique), tuple(update))
    bound = zip(fields, values.values(), strict=True)
    params = [*(field.get_db_prep_save(value, connection) for field, value in bound), slug]
    return Write(sql, params, needs=tool_exists(slug))


@functools.cache
def upsert_sql(vendor: str, model, names: tuple, unique: tuple, update: tuple) -> tuple[str, list]:
    """upsert's statement text and fields, built once per process for each shape: building
    them cost a vote more than binding its values (`vendor`: the text is per database)."""
    q = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    columns = {name: q(model._meta.get_field(name).column) for name in ("tool", *names)}
    on_conflict = ", ".join(f"{columns[n]} = EXCLUDED.{columns[n]}" for n in update) if update else ""
    # (SQLite needs the WHERE, which an INSERT ... SELECT with ON CONFLICT carries anyway.)
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(columns.values())}) "  # noqa: S608
        f"SELECT t.id, {', '.join(['%s'] * len(names))} FROM catalog_tool t "
        f"WHERE t.slug = %s AND {{allowed}} "
        f"ON CONFLICT ({', '.join(columns[n] for n in unique)}) "
        + (f"DO UPDATE SET {on_conflict}" if update else "DO NOTHING")
    )
    return sql, fields


def delete_one(model, slug: str, **where) -> Write:
    """DELETE of the row about the tool `slug` that these columns name (with the tool, a
    unique pair), where the condition holds."""
    sql = delete_sql(connection.vendor, model, tuple(where))
    return Write(sql, [slug, *where.values()], needs=tool_exists(slug))


@functools.cache
def delete_sql(vendor: str, model, names: tuple) -> str:
    q = connection.ops.quote_name
    matched = "".join(f" AND {q(model._meta.get_field(name).column)} = %s" for name in names)
    tool = q(model._meta.get_field("tool").column)
    return f"DELETE FROM {q(model._meta.db_table)} WHERE {tool} = ({TOOL_BY_SLUG}){matched} AND {{allowed}}"  # noqa: S608


def tool_exists(slug: str) -> tuple[str, list]:
    """The condition for a write's rate counters to count it: its tool exists (Write.needs)."""
    return f"EXISTS ({TOOL_BY_SLUG})", [slug]  # noqa: S608 - a constant, the slug bound


# What a vote's write reads back in its own transaction: the tool it named, in the columns
# catalog.models.tool_for_write takes (no row: no such tool, and nothing was written), then the tally
# the vote made. A bookmark's reads the tool alone (FOR_WRITE_SQL).
VOTE_READ = (
    "SELECT t.id, t.name, t.slug, v.ship, v.skip FROM catalog_tool t "
    "LEFT JOIN community_toolvotes v ON v.tool_id = t.id WHERE t.slug = %s"
)


def vote_write(slug: str, *, voter: str, verdict: str) -> Write:
    """The statement that sets or takes back a voter's vote for the tool `slug`, for
    `ratelimit.check` to run where the limits allow, with the tool and its tally read after it
    (`rows`, see `views.written_tool`); an unknown tool: nothing written, no row read.

    A function, not a queryset method: making the manager's queryset cost a vote more than
    binding its statement did."""
    if verdict == "none":
        write = delete_one(Vote, slug, voter=voter)
    else:
        # INSERT ... ON CONFLICT DO UPDATE: the unique constraint decides, not a read first,
        # so a double click or two tabs can never make two rows.
        now = timezone.now()
        write = upsert(
            Vote,
            slug,
            {"voter": voter, "verdict": verdict, "created_at": now, "updated_at": now},
            unique=["tool", "voter"],
            update=["verdict", "updated_at"],
        )
    write.read = VOTE_READ, [slug]
    return write


class VoteQuerySet(models.QuerySet):
    def cast(self, *, tool, voter: str, verdict: str) -> None:
        """Set or take back a voter's vote in one statement, safe against concurrent casts."""
        vote_write(tool.slug, voter=voter, verdict=verdict).run()

    def tally_for(self, tool) -> tuple[int, int]:
        """A tool's (ship, skip) votes: its stored row (`ToolVotes`, kept by triggers in each
        vote's own transaction, so as exact as a count), one primary-key read however many
        votes the tool has. Plain SQL: the ORM's compiling cost more than the query."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT ship, skip FROM community_toolvotes WHERE tool_id = %s", [tool.pk])
            row = cursor.fetchone()
        return (row[0], row[1]) if row else (0, 0)  # no row: no votes yet


class Vote(models.Model):
    # No index of its own: the unique (tool, voter) index serves every lookup by tool. Each
    # index more is one more B-tree a vote writes, and on PostgreSQL an index on the verdict
    # (there was one, on tool and verdict) made every changed vote a non-HOT update.
    tool = models.ForeignKey("catalog.Tool", on_delete=models.CASCADE, related_name="votes", db_index=False)
    # "u:<user id>" for an account, "a:<random id kept in the session>" for an anonymous browser.
    voter = models.CharField(max_length=40)
    verdict = models.CharField(max_length=4, choices=Verdict.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = VoteQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tool", "voter"], name="one_vote_per_voter")]
        indexes = [models.Index(fields=["voter"])]  # a reader's own votes (GET /me)

    def __str__(self):
        return f"{self.voter} says {self.verdict} to {self.tool_id}"


class ToolVotes(models.Model):
    """A tool's ship and skip votes, kept by triggers on `Vote` (community/tally_triggers.py) so
    lists read them as columns (`Tool.objects.with_community()`); no row: no votes yet."""

    tool = models.OneToOneField(
        "catalog.Tool", on_delete=models.CASCADE, primary_key=True, related_name="vote_tally"
    )
    ship = models.IntegerField(default=0)
    skip = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.tool_id}: {self.ship} ship / {self.skip} skip"


def own_marks(voter: str, slugs: list[str]) -> tuple[dict[str, str], list[str]]:
    """A reader's votes (slug -> verdict) and bookmarks among the tools `slugs`, in one query.

    GET /me asks on every page view of a reader with a session, and it was two ORM querysets;
    compiling them cost more than running them. Plain SQL, values bound, names written out."""
    if not slugs:
        return {}, []
    among = ", ".join(["%s"] * len(slugs))
    sql = (
        "SELECT 'vote', t.slug, v.verdict FROM community_vote v JOIN catalog_tool t ON t.id = v.tool_id "  # noqa: S608
        f"WHERE v.voter = %s AND t.slug IN ({among}) UNION ALL "
        "SELECT 'bookmark', t.slug, NULL FROM community_bookmark b JOIN catalog_tool t ON t.id = b.tool_id "
        f"WHERE b.owner = %s AND t.slug IN ({among})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [voter, *slugs, voter, *slugs])
        rows = cursor.fetchall()
    votes = {slug: verdict for kind, slug, verdict in rows if kind == "vote"}
    return votes, [slug for kind, slug, _ in rows if kind == "bookmark"]


def bookmark_write(slug: str, *, owner: str, on: bool) -> Write:
    """The statement that bookmarks or unbookmarks the tool `slug`, for `ratelimit.check` to
    run where the limits allow, with the tool read after it (`rows`), as in `vote_write`."""
    if on:  # INSERT ... ON CONFLICT DO NOTHING: a bookmark already there stays as it was
        write = upsert(
            Bookmark,
            slug,
            {"owner": owner, "created_at": timezone.now()},
            unique=["tool", "owner"],
            update=[],
        )
    else:
        write = delete_one(Bookmark, slug, owner=owner)
    write.read = FOR_WRITE_SQL, [slug]
    return write


class Bookmark(models.Model):
    # As on Vote: the unique (tool, owner) index serves lookups by tool.
    tool = models.ForeignKey(
        "catalog.Tool", on_delete=models.CASCADE, related_name="bookmarks", db_index=False
    )
    owner = models.CharField(max_length=40)  # a voter id, as on Vote
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["tool", "owner"], name="one_bookmark_per_owner")]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self):
        return f"{self.owner} keeps {self.tool_id}"


class RateCounter(models.Model):
    """Hits of one rate-limit key in one time slot; see ratelimit.py."""

    key = models.CharField(max_length=200)
    slot = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "slot"], name="one_counter_per_slot")]

    def __str__(self):
        return f"{self.key} @ {self.slot}: {self.hits}"


class SignUpQuerySet(models.QuerySet):
    @staticmethod
    def cutoff():
        """A sign-up's link works as long as a password-reset link does."""
        return timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)

    def live(self):
        return self.filter(created_at__gte=self.cutoff())

    def expired(self):
        return self.filter(created_at__lt=self.cutoff())


class PendingSignUp(models.Model):
    """A sign-up waiting for its email link: no account exists until the link is followed.

    Sign-up answers the same whether or not the address has an account (else it tells anyone
    who has one); the worker then emails either this row's link or a note to the owner.
    """

    email = models.EmailField(max_length=150)
    password = models.CharField(max_length=128)  # a hash, as User.password
    token = models.CharField(max_length=64, unique=True)
    next = models.CharField(max_length=500, blank=True)  # where the reader was going
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = SignUpQuerySet.as_manager()

    def __str__(self):
        return f"sign-up of {self.email} at {self.created_at:%Y-%m-%d %H:%M}"


class Lockout(models.Model):
    """Sign-in attempts refused by a rate limit, one row per locked key and time window.

    Shown read-only in the admin, so a site owner sees who is guessing passwords (which
    accounts, from where) and when the lock lifts.
    """

    action = models.CharField(max_length=20)  # "admin" or "signin" (a ratelimit action)
    scope = models.CharField(max_length=10)  # "session" or "ip": which limit was exceeded
    who = models.CharField(max_length=64)  # the locked IP address, or the browser's voter id
    ip = models.CharField(max_length=64, blank=True)  # the latest refused attempt's address
    usernames = models.JSONField(default=list)  # the names tried while locked, the latest first
    slot = models.BigIntegerField()  # the window's start, as on RateCounter
    refused = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField()

    class Meta:
        ordering = ["-last_at"]
        verbose_name = "sign-in lockout"
        constraints = [
            models.UniqueConstraint(fields=["action", "scope", "who", "slot"], name="one_lockout_per_window")
        ]

    def __str__(self):
        return f"{self.action} sign-in locked for {self.scope} {self.who}"
