"""The triggers that keep each tool's stored vote tally (`ToolVotes`) exact, for SQLite and
PostgreSQL.

A vote's insert, change or removal adds to or takes from its tool's row in the same
transaction. Increments, not recounts: votes on one tool arrive concurrently, and on
PostgreSQL `ON CONFLICT DO UPDATE` / `UPDATE` re-read the row's latest version under its lock,
where a recount would write a count taken before another writer's commit. The table is not one
the page cache watches (pagecache/triggers.py bumps the vote scopes from `community_vote`
itself), so keeping it costs a vote no site-wide invalidation.

A removal only updates: the row of a tool being deleted may be gone already (Django deletes
the tool's `ToolVotes` with it), and re-inserting it would point at a tool about to vanish.
"""

EVENTS = ["insert", "update", "delete"]
VOTE_CHANGED = "OLD.verdict IS DISTINCT FROM NEW.verdict OR OLD.tool_id IS DISTINCT FROM NEW.tool_id"


def _add(row: str, cast: str) -> str:
    return (
        "INSERT INTO community_toolvotes (tool_id, ship, skip) "  # noqa: S608 - constants only
        f"VALUES ({row}.tool_id, ({row}.verdict = 'ship'){cast}, ({row}.verdict = 'skip'){cast}) "
        "ON CONFLICT (tool_id) DO UPDATE SET ship = community_toolvotes.ship + EXCLUDED.ship, "
        "skip = community_toolvotes.skip + EXCLUDED.skip;"
    )


def _take(row: str, cast: str) -> str:
    return (
        f"UPDATE community_toolvotes SET ship = ship - ({row}.verdict = 'ship'){cast}, "  # noqa: S608
        f"skip = skip - ({row}.verdict = 'skip'){cast} WHERE tool_id = {row}.tool_id;"
    )


BACKFILL = (
    "INSERT INTO community_toolvotes (tool_id, ship, skip) "
    "SELECT tool_id, COUNT(*) FILTER (WHERE verdict = 'ship'), "
    "COUNT(*) FILTER (WHERE verdict = 'skip') "
    "FROM community_vote GROUP BY tool_id"
)


def sqlite_create() -> list[str]:
    bodies = {
        "insert": _add("NEW", ""),
        "delete": _take("OLD", ""),
        "update": _take("OLD", "") + " " + _add("NEW", ""),
    }
    return [
        f"CREATE TRIGGER community_tally_vote_{event} AFTER {event.upper()} ON community_vote "
        "FOR EACH ROW"
        + (f" WHEN {VOTE_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')}" if event == "update" else "")
        + f" BEGIN {bodies[event]} END"
        for event in EVENTS
    ]


def sqlite_drop() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS community_tally_vote_{event}" for event in EVENTS]


def postgresql_create() -> list[str]:
    return [
        "CREATE OR REPLACE FUNCTION community_tally_vote() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_take('OLD', '::int')} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_add('NEW', '::int')} END IF; "
        "RETURN NULL; END $$",
        *[
            f"CREATE TRIGGER community_tally_vote_{event} AFTER {event.upper()} ON community_vote "
            "FOR EACH ROW"
            + (f" WHEN ({VOTE_CHANGED})" if event == "update" else "")
            + " EXECUTE FUNCTION community_tally_vote()"
            for event in EVENTS
        ],
    ]


def postgresql_drop() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS community_tally_vote_{event} ON community_vote" for event in EVENTS] + [
        "DROP FUNCTION IF EXISTS community_tally_vote()"
    ]


def create(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": sqlite_create, "postgresql": postgresql_create}[vendor]():
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)


def drop(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": sqlite_drop, "postgresql": postgresql_drop}[vendor]():
        schema_editor.execute(statement)
