"""Fixed-window rate limits per session and per IP, counted in Redis or in the database.

The counters must be shared by every web process, or a count per process would let through a
multiple of the limit: so never the default local-memory cache. With REDIS_URL they live in
Redis (one round trip: INCR, with the key expiring after its window), else in the database
(one upsert statement for all of a request's keys). Both are exact across processes and
machines; Redis takes the writes off the database, which on SQLite takes one writer at a time.
"""

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from shiporskip.community import writes
from shiporskip.community.models import Lockout, RateCounter
from shiporskip.community.voters import voter_for
from shiporskip.conf import Limit
from shiporskip.statements import fetch, fetch_all

if TYPE_CHECKING:
    import redis

    from shiporskip.community.models import Write

ACTION_WORDS = {
    "vote": "votes",
    "bookmark": "bookmark changes",
    "signin": "sign-in attempts",
    "signup": "sign-ups",
    "subscribe": "newsletter sign-ups",
    "admin": "admin sign-in attempts",
}
# Refusals of these are kept as Lockout rows, for the admin to see who is guessing passwords.
LOCKOUTS = {"signin", "admin"}
# The limiter's clock, in seconds since the epoch: time.time on the site. Tests put a fake one
# in its place (tests/conftest.py, `rate_clock`), so where a window starts and ends is exact.
clock: Callable[[], float] = time.time


def window_start(limit: Limit) -> int:
    """The start of the window the clock is in; comparable across window sizes."""
    now = int(clock())
    return now - now % limit.seconds


def client_ip(request) -> str:
    """The client's address, taking X-Forwarded-For only from the configured proxies."""
    hops = settings.SHIPORSKIP_PROXY_COUNT
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def hit(key: str, limit: Limit) -> int:
    """Count one hit of key in the current slot and return the slot's total."""
    return hits([(key, limit)])[0]


def hits(keys: list[tuple[str, Limit]]) -> list[int]:
    """Count one hit of each key in its current slot; return each slot's total, in order."""
    slotted = [(key, window_start(limit), limit.seconds) for key, limit in keys]
    if settings.REDIS_URL:
        return redis_hits(slotted)
    return database_hits(slots(keys))


def database_hits(
    slotted: list[tuple[str, int]], then: "Guarded | None" = None, needs: tuple[str, list] | None = None
) -> list[int]:
    """Count the slots in one upsert, only where `needs` holds if given (a write's tool
    exists, `Write.needs`): else nothing is counted, and each count reads 0. With `then`, run
    its write where no count went over its limit, and its read: on PostgreSQL in the counters'
    own statement, on SQLite in the statements after it (`counted_then_written`)."""
    sql, allowed = counters_sql(
        connection.vendor, len(slotted), guarded=then is not None, needs=needs[0] if needs else ""
    )
    params = slot_params(slotted) + (needs[1] if needs else [])
    if then is None:
        returned = fetch(sql, params)
    elif connection.vendor == "sqlite":
        return counted_then_written(sql, params, allowed, then, slotted)
    else:
        sql = sql.replace("{write}", then.write.sql.replace("{allowed}", allowed))
        returned = then.write.run_sql(sql, params + then.write.params + then.bounds(slotted))
    # RETURNING gives no order: match the rows back to the keys (none: `needs` did not hold).
    counted = {(key, slot): n for key, slot, n in returned}
    return [counted.get(pair, 0) for pair in slotted]


def counted_then_written(
    counters: str, params: list, allowed: str, then: "Guarded", slotted: list[tuple[str, int]]
) -> list[int]:
    """SQLite, within one job of the group commit: the counters' upsert, then the write where
    no count went over its limit, then the write's read with the counts as its last columns;
    the counts, in order.

    Three statements, each one step of the driver: every step lets the process's other
    threads take the GIL while this job's batch holds the turn every writer waits for. The
    upsert returning its rows took three steps, and Python compared them; now the write's
    condition reads the counters, and the read that follows it carries them back.
    """
    write, n = then.write, len(slotted)
    assert write.read is not None, "a write counted in the database answers with its read"
    read, read_params = write.read
    counts = ", ".join([f"({count_sql(connection.vendor)})"] * n)
    _, _, rows = fetch_all(
        [
            (counters, params),
            (write.sql.replace("{allowed}", allowed), write.params + then.bounds(slotted)),
            (f"SELECT r.*, {counts} FROM ({read}) AS r", slot_params(slotted) + read_params),  # noqa: S608
        ]
    )
    write.rows = [row[:-n] for row in rows]
    # No row: the tool is unknown, so `needs` did not hold and nothing was counted.
    return list(rows[0][-n:]) if rows else [0] * n


def slot_params(slotted: list[tuple[str, int]]) -> list:
    """Each slot's key and window start, in order: what the counters' statements bind."""
    return [value for pair in slotted for value in pair]


@functools.cache
def counter_names(vendor: str) -> tuple[str, str, str, str]:
    """The counters' table and its key, slot and hits columns, quoted (`vendor`: per database)."""
    table, k, s, h = map(connection.ops.quote_name, [RateCounter._meta.db_table, "key", "slot", "hits"])
    return table, k, s, h


@functools.cache
def count_sql(vendor: str) -> str:
    """One slot's count, by key and slot: a lookup of the unique (key, slot) index."""
    table, k, s, h = counter_names(vendor)
    return f"SELECT c.{h} FROM {table} c WHERE c.{k} = %s AND c.{s} = %s"  # noqa: S608 - names


@functools.cache
def counters_sql(vendor: str, count: int, *, guarded: bool, needs: str = "") -> tuple[str, str]:
    """database_hits' statement for `count` slots, built once per process for each shape (the
    building cost a vote more than the binding), counting only where `needs` (SQL) holds.

    Guarded, the second string is the condition for the write's `{allowed}`: no count over its
    limit, check()'s rule, binding each slot's key, window start and limit (`Guarded.bounds`).
    On PostgreSQL the statement says `{write}` where the write's own goes (a data-modifying
    WITH: the write sees the counts the statement made); on SQLite the write is the next
    statement, its condition reads the counters table, and the upsert returns nothing."""
    table, k, s, h = counter_names(vendor)
    # One atomic upsert on SQLite and PostgreSQL alike; names come from the model, values are bound.
    rows = ", ".join(["(%s, %s, 1)"] * count)
    # VALUES as a table, so that a WHERE can hold `needs` (its columns are column1... in both).
    source = f"SELECT column1, column2, column3 FROM (VALUES {rows}) AS v WHERE {needs or 'TRUE'}"  # noqa: S608
    upsert = (
        f"INSERT INTO {table} ({k}, {s}, {h}) {source} "  # noqa: S608
        f"ON CONFLICT ({k}, {s}) DO UPDATE SET {h} = {table}.{h} + 1"
    )
    returning = f" RETURNING {k}, {s}, {h}"
    if not guarded:
        return upsert + returning, ""
    if vendor == "sqlite":
        return upsert, " AND ".join([f"NOT EXISTS ({count_sql(vendor)} AND c.{h} > %s)"] * count)
    over = " OR ".join(f"(c.{k} = %s AND c.{s} = %s AND c.{h} > %s)" for _ in range(count))
    allowed = f"NOT EXISTS (SELECT 1 FROM counted c WHERE {over})"  # noqa: S608 - names, %s
    sql = f"WITH counted AS ({upsert}{returning}), written AS ({{write}}) SELECT {k}, {s}, {h} FROM counted"  # noqa: S608
    return sql, allowed


def slots(keys: list[tuple[str, Limit]]) -> list[tuple[str, int]]:
    """Each key with the window the clock is in for its limit: the rows database_hits counts."""
    return [(key, window_start(limit)) for key, limit in keys]


def within(counts: list[int], keys: list[tuple[str, Limit]]) -> bool:
    """No count over its key's limit: the one rule for letting a write through."""
    return all(n <= limit.hits for n, (_, limit) in zip(counts, keys, strict=True))


def guarded_hits(keys: list[tuple[str, Limit]], write: "Write") -> list[int]:
    """hits(keys) in the database, with `write` made where no count goes over its limit
    (database_hits)."""
    return database_hits(slots(keys), Guarded(write, [limit.hits for _, limit in keys]), write.needs)


def counted_with(keys: list[tuple[str, Limit]], write: "Write") -> list[int]:
    """hits(keys), and `write` made where no count goes over its limit: with the counters in the
    database, in the same commit.

    PostgreSQL: one statement (guarded_hits). BEGIN, the counters, the vote and COMMIT were
    four round trips, each waiting for the GIL again with the transaction open, and a vote ran
    at half the rate of GET /me. SQLite: one job of the process's group commit (writes.in_turn).
    """
    if settings.REDIS_URL or not keys:
        if keys and write.needs and not holds(write.needs):  # as in the database: not counted
            return [0] * len(keys)
        counts = hits(keys) if keys else []
        if within(counts, keys):
            # One statement: on PostgreSQL atomic by itself, with no BEGIN and COMMIT.
            writes.in_turn(write.run) if connection.vendor == "sqlite" else write.run()
        return counts
    if connection.vendor == "postgresql":
        return guarded_hits(keys, write)
    return writes.in_turn(lambda: guarded_hits(keys, write))  # statements only: any thread may run it


def holds(condition: tuple[str, list]) -> bool:
    """Whether a write's `needs` holds now: with the counters in Redis, a query of its own."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 WHERE {condition[0]}", condition[1])  # noqa: S608 - Write.needs: constant SQL
        return cursor.fetchone() is not None


@dataclass(frozen=True)
class Guarded:
    """A write to run in the counters' own statement, and each key's limit (hits allowed)."""

    write: "Write"
    limits: list[int]

    def bounds(self, slotted: list[tuple[str, int]]) -> list:
        """Each slot's key, window start and limit: what the write's `{allowed}` binds."""
        return [v for (key, slot), n in zip(slotted, self.limits, strict=True) for v in (key, slot, n)]


REDIS_CLIENTS: dict[str, "redis.Redis"] = {}  # one client (and its pool) per URL


def redis_hits(slotted: list[tuple[str, int, int]]) -> list[int]:
    """INCR each slot's key in one MULTI (one round trip), each key expiring after its window."""
    import redis  # noqa: PLC0415 - only with REDIS_URL

    url = settings.REDIS_URL
    client = REDIS_CLIENTS.get(url) or REDIS_CLIENTS.setdefault(url, redis.Redis.from_url(url))
    pipe = client.pipeline(transaction=True)
    for key, slot, seconds in slotted:
        name = f"shiporskip:rate:{key}:{slot}"
        pipe.incr(name)
        pipe.expire(name, 2 * seconds)  # the key names its slot: gone once the window is past
    return [int(n) for n in pipe.execute()[::2]]


def check(request, action: str, then: "Write | None" = None) -> str | None:
    """Count this request against action's limits; return a message if one is exceeded.

    `then`, the write the request makes, is made only when no limit is exceeded, and with
    the counts in the database, in their transaction (`counted_with`).
    """
    limits = settings.SHIPORSKIP_RATE_LIMITS[action]
    keys = [("session", f"{action}:s:{voter_for(request)}"), ("ip", f"{action}:ip:{client_ip(request)}")]
    keys = [(scope, key) for scope, key in keys if limits[scope]]
    slotted = [(key, limits[scope]) for scope, key in keys]
    counted = counted_with(slotted, then) if then is not None else hits(slotted) if slotted else []
    over = [scope for (scope, _), n in zip(keys, counted, strict=True) if n > limits[scope].hits]
    if not over:
        return None
    limit = limits[over[0]]
    if action in LOCKOUTS:
        note_lockout(request, action, over[0], limit)
    who = "this browser" if over[0] == "session" else "your network"
    return (
        f"Too many {ACTION_WORDS[action]} from {who}: the limit is {limit.describe()}. "
        f"Wait a moment and try again."
    )


def note_lockout(request, action: str, scope: str, limit: Limit) -> None:
    """Count a refused sign-in on its lockout row (one per locked key and window)."""
    slot = window_start(limit)
    ip = client_ip(request)
    who = ip if scope == "ip" else voter_for(request)
    tried = (request.POST.get("username") or request.POST.get("email") or "").strip()[:150]
    key = {"action": action, "scope": scope, "who": who[:64], "slot": slot}
    try:
        with transaction.atomic():
            row, _ = Lockout.objects.get_or_create(
                **key, defaults={"until": datetime.fromtimestamp(slot + limit.seconds, tz=UTC)}
            )
    except IntegrityError:  # two refusals at once: the other made the row
        row = Lockout.objects.get(**key)
    names = ([tried] if tried else []) + [n for n in row.usernames if n != tried]
    Lockout.objects.filter(pk=row.pk).update(
        refused=F("refused") + 1, last_at=timezone.now(), ip=ip[:64], usernames=names[:20]
    )


def retry_after(action: str) -> int:
    limits = [lim for lim in settings.SHIPORSKIP_RATE_LIMITS[action].values() if lim]
    return max((window_start(lim) + lim.seconds - int(clock()) for lim in limits), default=1)


def forget_old() -> None:
    """Drop counters of windows long past (the largest window is a day)."""
    RateCounter.objects.filter(slot__lt=int(clock()) - 2 * 86400).delete()
