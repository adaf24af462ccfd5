"""The triggers that keep `PersonaTally` exact, for SQLite and PostgreSQL: each persona's current
reviews counted by category and verdict, the persona page's "Verdicts by category" table and
its filter's counts. Grouping every current review of a persona per request cost tens of
milliseconds at 10,000 tools; the database keeps the counts instead, in the writer's transaction.

A review counts while it is current: its run is its tool's current run. So it is added or taken
away when a review of a current run is written or removed, and when a tool's current run or
category changes (the old run's reviews leave the old category's rows, the new run's join the
new one's). Increments, not recounts (a recount would read a whole category): each event
counts only the review and tool rows that both exist, so whichever of the two is written second
adds it and whichever goes first takes it away, in any order a delete or a load takes.

A tool's own tally columns are recounted by catalog/tally_triggers.py's triggers on the same
tables; this table is no page-cache scope (the reviews and tools it counts already bump the site).
"""

TABLE = "panel_personatally"
# Every piece of this module's SQL is a constant of it: no input reaches a trigger.
UPSERT = (
    f"INSERT INTO {TABLE} (persona_id, category_id, verdict, reviews) {{select}} "  # noqa: S608
    "ON CONFLICT (persona_id, category_id, verdict) "
    f"DO UPDATE SET reviews = {TABLE}.reviews + EXCLUDED.reviews;"
)


def review_add(row: str) -> str:
    """Add one review row (NEW) if it is current."""
    return UPSERT.format(
        select=f"SELECT {row}.persona_id, t.category_id, {row}.verdict, 1 FROM catalog_tool t "  # noqa: S608
        f"WHERE t.id = {row}.tool_id AND t.current_run_id = {row}.run_id"
    )


def review_take(row: str) -> str:
    """Take one review row (OLD) away if it was current: an UPDATE only (see tool_take)."""
    return (
        f"UPDATE {TABLE} SET reviews = reviews - 1 WHERE persona_id = {row}.persona_id "  # noqa: S608
        f"AND verdict = {row}.verdict AND category_id = (SELECT t.category_id FROM catalog_tool t "
        f"WHERE t.id = {row}.tool_id AND t.current_run_id = {row}.run_id);"
    )


# A review of a tool row's current run (NEW or OLD), matched to a tally row.
OF_TOOL = "r.tool_id = {row}.id AND r.run_id = {row}.current_run_id"
MATCHED = f"{OF_TOOL} AND r.persona_id = {TABLE}.persona_id AND r.verdict = {TABLE}.verdict"


def tool_add(row: str) -> str:
    """Add every review of a tool row's current run (NEW), by persona and verdict."""
    return UPSERT.format(
        select=f"SELECT r.persona_id, {row}.category_id, r.verdict, COUNT(*) "  # noqa: S608
        f"FROM panel_review r WHERE {OF_TOOL.format(row=row)} GROUP BY r.persona_id, r.verdict"
    )


def tool_take(row: str) -> str:
    """Take every review of a tool row's former current run (OLD) away from its rows.

    Removals only update, never insert: while a flush or a cascade deletes the tables in turn,
    a tally row's persona or category may be gone already, and a row re-inserted for it would
    point at nothing (the commit's foreign key check fails)."""
    matched = MATCHED.format(row=row)
    return (
        f"UPDATE {TABLE} SET reviews = reviews - (SELECT COUNT(*) FROM panel_review r "  # noqa: S608
        f"WHERE {matched}) WHERE category_id = {row}.category_id "
        f"AND EXISTS (SELECT 1 FROM panel_review r WHERE {matched});"
    )


REVIEW_CHANGED = " OR ".join(
    f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ("run_id", "tool_id", "persona_id", "verdict")
)
TOOL_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ("current_run_id", "category_id"))
# What each event takes away (OLD) and adds (NEW), per table.
BODIES = {
    ("panel_review", "insert"): [review_add("NEW")],
    ("panel_review", "update"): [review_take("OLD"), review_add("NEW")],
    ("panel_review", "delete"): [review_take("OLD")],
    ("catalog_tool", "insert"): [tool_add("NEW")],
    ("catalog_tool", "update"): [tool_take("OLD"), tool_add("NEW")],
    ("catalog_tool", "delete"): [tool_take("OLD")],
}
WHEN = {"panel_review": REVIEW_CHANGED, "catalog_tool": TOOL_CHANGED}
BACKFILL = UPSERT.format(
    select="SELECT r.persona_id, t.category_id, r.verdict, COUNT(*) FROM panel_review r "
    "JOIN catalog_tool t ON t.id = r.tool_id WHERE r.run_id = t.current_run_id "
    "GROUP BY r.persona_id, t.category_id, r.verdict"
)


def name(table: str, event: str) -> str:
    return f"panel_persona_tally_{table.split('_', 1)[1]}_{event}"


def sqlite_create() -> list[str]:
    return [
        f"CREATE TRIGGER {name(table, event)} AFTER {event.upper()} ON {table} FOR EACH ROW"
        + (f" WHEN {WHEN[table].replace('IS DISTINCT FROM', 'IS NOT')}" if event == "update" else "")
        + f" BEGIN {' '.join(body)} END"
        for (table, event), body in BODIES.items()
    ]


def sqlite_drop() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name(table, event)}" for table, event in BODIES]


def postgresql_create() -> list[str]:
    statements = []
    for (table, event), body in BODIES.items():
        statements += [
            f"CREATE OR REPLACE FUNCTION {name(table, event)}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {' '.join(body)} RETURN NULL; END $$",
            f"CREATE TRIGGER {name(table, event)} AFTER {event.upper()} ON {table} FOR EACH ROW"
            + (f" WHEN ({WHEN[table]})" if event == "update" else "")
            + f" EXECUTE FUNCTION {name(table, event)}()",
        ]
    return statements


def postgresql_drop() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name(table, event)} ON {table}" for table, event in BODIES] + [
        f"DROP FUNCTION IF EXISTS {name(table, event)}()" for table, event in BODIES
    ]


def create(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": sqlite_create, "postgresql": postgresql_create}[vendor]():
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)  # every persona's counts from the reviews already stored


def drop(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": sqlite_drop, "postgresql": postgresql_drop}[vendor]():
        schema_editor.execute(statement)
