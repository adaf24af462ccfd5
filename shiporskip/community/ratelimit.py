"""Fixed-window rate limits per session and per IP, counted in the database.

The database, not the cache, holds the counters: the default local-memory cache is per
process, so with several web workers a cache count would let through a multiple of the
limit. One upsert per key keeps the count exact across processes and machines.
"""

import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from shiporskip.community.models import Lockout, RateCounter
from shiporskip.community.voters import voter_for
from shiporskip.conf import Limit

ACTION_WORDS = {"vote": "votes", "bookmark": "bookmark changes", "signin": "sign-in attempts",
                "signup": "sign-ups", "subscribe": "newsletter sign-ups",
                "admin": "admin sign-in attempts"}
# Refusals of these are kept as Lockout rows, for the admin to see who is guessing passwords.
LOCKOUTS = {"signin", "admin"}


def client_ip(request) -> str:
    """The client's address, taking X-Forwarded-For only from the configured proxies."""
    hops = settings.SHIPORSKIP_PROXY_COUNT
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def hit(key: str, limit: Limit) -> int:
    """Count one hit of key in the current slot and return the slot's total."""
    now = int(time.time())
    slot = now - now % limit.seconds  # the window's start, comparable across window sizes
    table, k, s, h = map(connection.ops.quote_name, [RateCounter._meta.db_table, "key", "slot", "hits"])
    # One atomic upsert on SQLite and PostgreSQL alike; names come from the model, values are bound.
    sql = (f"INSERT INTO {table} ({k}, {s}, {h}) VALUES (%s, %s, 1) "  # noqa: S608
           f"ON CONFLICT ({k}, {s}) DO UPDATE SET {h} = {table}.{h} + 1 RETURNING {h}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, slot])
        return cursor.fetchone()[0]


def check(request, action: str) -> str | None:
    """Count this request against action's limits; return a message if one is exceeded."""
    limits = settings.SHIPORSKIP_RATE_LIMITS[action]
    keys = [("session", f"{action}:s:{voter_for(request)}"), ("ip", f"{action}:ip:{client_ip(request)}")]
    # savepoint=False: inside a view's transaction the counters commit with its write, in one go.
    with transaction.atomic(savepoint=False):
        over = [scope for scope, key in keys
                if limits[scope] and hit(key, limits[scope]) > limits[scope].hits]
    if not over:
        return None
    limit = limits[over[0]]
    if action in LOCKOUTS:
        note_lockout(request, action, over[0], limit)
    who = "this browser" if over[0] == "session" else "your network"
    return (f"Too many {ACTION_WORDS[action]} from {who}: the limit is {limit.describe()}. "
            f"Wait a moment and try again.")


def note_lockout(request, action: str, scope: str, limit: Limit) -> None:
    """Count a refused sign-in on its lockout row (one per locked key and window)."""
    now = int(time.time())
    slot = now - now % limit.seconds
    ip = client_ip(request)
    who = ip if scope == "ip" else voter_for(request)
    tried = (request.POST.get("username") or request.POST.get("email") or "").strip()[:150]
    key = {"action": action, "scope": scope, "who": who[:64], "slot": slot}
    try:
        with transaction.atomic():
            row, _ = Lockout.objects.get_or_create(**key, defaults={
                "until": datetime.fromtimestamp(slot + limit.seconds, tz=UTC)})
    except IntegrityError:  # two refusals at once: the other made the row
        row = Lockout.objects.get(**key)
    names = ([tried] if tried else []) + [n for n in row.usernames if n != tried]
    Lockout.objects.filter(pk=row.pk).update(refused=F("refused") + 1, last_at=timezone.now(),
                                             ip=ip[:64], usernames=names[:20])


def retry_after(action: str) -> int:
    limits = [lim for lim in settings.SHIPORSKIP_RATE_LIMITS[action].values() if lim]
    return max((lim.seconds - int(time.time()) % lim.seconds for lim in limits), default=1)


def forget_old() -> None:
    """Drop counters of windows long past (the largest window is a day)."""
    RateCounter.objects.filter(slot__lt=int(time.time()) - 2 * 86400).delete()
