"""The triggers that change generation tokens, for SQLite and PostgreSQL.

Each names the tables public pages are drawn from. A bookmark is on no public page (only the
reader's own, filled in by `/me`), and a run's progress and heartbeat only show while it is
open, when its tool page is never cached: neither changes a token.
"""

from shiporskip.pagecache.models import VOTE_SHARDS

# Tables whose every row change can change what any public page shows: (table, when on update).
SITE_TABLES = [
    ("catalog_category", None),
    ("catalog_tool", None),
    ("catalog_factschange", None),
    ("panel_persona", None),
    ("panel_review", None),
    # A run's heartbeat and progress are written every few seconds while it runs: only its
    # status (queued, running, done, failed, with its result) shows on a cached page.
    ("panel_panelrun", "OLD.status <> NEW.status"),
    ("newsletter_edition", None),
]
VOTE_UPDATE = "OLD.verdict <> NEW.verdict OR OLD.tool_id <> NEW.tool_id"
EVENTS = ["INSERT", "UPDATE", "DELETE"]


def _names():
    for table, when in SITE_TABLES:
        for event in EVENTS:
            yield f"pagecache_{table}_{event.lower()}", table, event, when if event == "UPDATE" else None


SQLITE_RANDOM = "abs(random())"


def _sqlite_upsert(scope_sql: str) -> str:
    # Every piece is a constant of this module: no input reaches this SQL.
    return (
        f"INSERT INTO pagecache_generation (scope, token) VALUES ({scope_sql}, {SQLITE_RANDOM}) "  # noqa: S608
        "ON CONFLICT (scope) DO UPDATE SET token = excluded.token;"
    )


def _votes_scope(row: str, modulo: str = "{} % {}") -> str:
    """The shard of the lists' vote scope that the row's tool belongs to (models.VOTES).
    PostgreSQL's statements go through the driver, where `%` is a placeholder: mod() there."""
    return f"'votes:' || ({modulo.format(f'{row}.tool_id', VOTE_SHARDS)})"


def _tool_scope(row: str) -> str:
    return f"'tool:' || COALESCE((SELECT slug FROM catalog_tool WHERE id = {row}.tool_id), '')"  # noqa: S608


def sqlite_create() -> list[str]:
    statements = []
    for name, table, event, when in _names():
        condition = f" WHEN {when}" if when else ""
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition} "
            f"BEGIN {_sqlite_upsert(repr('site'))} END"
        )
    for event in EVENTS:
        # The votes shard first, then the tool: every writer takes them in the same order.
        rows = ["NEW"] if event == "INSERT" else ["OLD"] if event == "DELETE" else ["OLD", "NEW"]
        body = "".join(_sqlite_upsert(_votes_scope(row)) for row in rows)
        body += "".join(_sqlite_upsert(_tool_scope(row)) for row in rows)
        condition = f" WHEN {VOTE_UPDATE}" if event == "UPDATE" else ""
        statements.append(
            f"CREATE TRIGGER pagecache_vote_{event.lower()} AFTER {event} ON community_vote "
            f"FOR EACH ROW{condition} BEGIN {body} END"
        )
    return statements


def sqlite_drop() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name, *_ in _names()] + [
        f"DROP TRIGGER IF EXISTS pagecache_vote_{event.lower()}" for event in EVENTS
    ]


PG_MOD = "mod({}, {})"
PG_RANDOM = "floor(random() * 9e18)::bigint"


def _pg_upsert(scope_sql: str) -> str:
    return (
        f"INSERT INTO pagecache_generation (scope, token) VALUES ({scope_sql}, {PG_RANDOM}) "  # noqa: S608
        "ON CONFLICT (scope) DO UPDATE SET token = EXCLUDED.token;"
    )


# On PostgreSQL the site's token is bumped once per statement, not once per row. Every update
# of a row leaves a version that the transaction's next update of it must step over (none can
# be pruned before the commit), so a bulk write bumping one row per row it wrote took time
# quadratic in its size: the 70,000 rows of 10,000 reviewed tools spent 124 s in this trigger
# alone, 1.8 ms a bump. A statement that changed no row bumps nothing (its transition table is
# empty), as a row trigger would not have fired.
PG_FUNCTIONS = [
    "CREATE OR REPLACE FUNCTION pagecache_bump_site() RETURNS trigger LANGUAGE plpgsql AS $$ "  # noqa: S608
    "BEGIN IF EXISTS (SELECT 1 FROM changed) THEN "
    f"{_pg_upsert(repr('site'))} END IF; RETURN NULL; END $$",
    # A run's status, changed: a row trigger with a WHEN, which heartbeats never call at all.
    "CREATE OR REPLACE FUNCTION pagecache_bump_site_row() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN {_pg_upsert(repr('site'))} RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION pagecache_bump_vote() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    + f" IF TG_OP <> 'INSERT' THEN {_pg_upsert(_votes_scope('OLD', PG_MOD))} END IF;"
    + f" IF TG_OP <> 'DELETE' THEN {_pg_upsert(_votes_scope('NEW', PG_MOD))} END IF;"
    + f" IF TG_OP <> 'INSERT' THEN {_pg_upsert(_tool_scope('OLD'))} END IF;"
    + f" IF TG_OP <> 'DELETE' THEN {_pg_upsert(_tool_scope('NEW'))} END IF;"
    + " RETURN NULL; END $$",
]


def _pg_site_trigger(name: str, table: str, event: str, when: str | None) -> str:
    if when:
        return (
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW WHEN ({when}) "
            "EXECUTE FUNCTION pagecache_bump_site_row()"
        )
    rows = "OLD" if event == "DELETE" else "NEW"
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {rows} TABLE AS changed "
        "FOR EACH STATEMENT EXECUTE FUNCTION pagecache_bump_site()"
    )


def postgresql_create() -> list[str]:
    statements = list(PG_FUNCTIONS)
    for name, table, event, when in _names():
        statements.append(_pg_site_trigger(name, table, event, when))
    for event in EVENTS:
        condition = f" WHEN ({VOTE_UPDATE})" if event == "UPDATE" else ""
        statements.append(
            f"CREATE TRIGGER pagecache_vote_{event.lower()} AFTER {event} ON community_vote "
            f"FOR EACH ROW{condition} EXECUTE FUNCTION pagecache_bump_vote()"
        )
    return statements


def postgresql_drop() -> list[str]:
    return (
        [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table, *_ in _names()]
        + [f"DROP TRIGGER IF EXISTS pagecache_vote_{event.lower()} ON community_vote" for event in EVENTS]
        + [f"DROP FUNCTION IF EXISTS pagecache_bump_{what}()" for what in ("site", "site_row", "vote")]
    )


def run(schema_editor, statements) -> None:
    for statement in statements:
        schema_editor.execute(statement)


def create(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    run(schema_editor, {"sqlite": sqlite_create, "postgresql": postgresql_create}[vendor]())


def recreate(apps, schema_editor) -> None:
    """Drop and create them again: a migration that changes what they do."""
    drop(apps, schema_editor)
    create(apps, schema_editor)


def drop(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    run(schema_editor, {"sqlite": sqlite_drop, "postgresql": postgresql_drop}[vendor]())
