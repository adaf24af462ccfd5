"""Generations: one token per scope of what public pages show, changed by every write to it.

A cached page's key holds the tokens of the scopes it shows (`shiporskip.pages.public`), so a
write that changes what a page shows changes its key, and the next request renders it afresh.
The tokens are written by database triggers (`triggers.py`), in the writer's own transaction:
no write path can forget them (an admin edit, a catalog load, a raw `INSERT ... ON CONFLICT`
vote, a worker on another machine), and they are shared by every process that shares the
database, so a per-process cache is as exact as Redis.

A token is random, not a count: a rolled-back transaction or a restored backup takes a count
back to a value that once meant other content; a random token never comes back.
"""

from django.db import connection, models

SITE = "site"  # the catalog, the panel (runs, reviews, personas), newsletter editions
# Any community vote: the lists that show or sort by community tallies. One scope per shard of
# tools (a vote bumps its tool's shard): a single row would be bumped by every vote on the site,
# and on PostgreSQL every vote would wait for the one before it to commit, for that row's lock.
VOTE_SHARDS = 16
VOTES = [f"votes:{shard}" for shard in range(VOTE_SHARDS)]


def tool_scope(slug: str) -> str:
    """Votes on one tool: its own page and its comparison pages show its community tally."""
    return f"tool:{slug}"


class Generation(models.Model):
    scope = models.CharField(max_length=140, primary_key=True)
    token = models.BigIntegerField()

    def __str__(self):
        return f"{self.scope} = {self.token}"


def tokens_sql(count: int, placeholder: str = "%s") -> str:
    """The one query for `count` scopes' tokens, with the driver's own placeholder if asked."""
    placeholders = ", ".join([placeholder] * count)
    return f"SELECT scope, token FROM {Generation._meta.db_table} WHERE scope IN ({placeholders})"  # noqa: S608


def tokens(scopes: list[str]) -> list[int]:
    """The current token of each scope (0 for a scope never written), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(tokens_sql(len(scopes)), scopes)
        found = dict(cursor.fetchall())
    return [found.get(scope, 0) for scope in scopes]
