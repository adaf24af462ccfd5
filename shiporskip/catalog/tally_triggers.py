"""The triggers that keep each tool's stored panel tally exact, for SQLite and PostgreSQL.

`catalog_tool.panel_ship`, `panel_skip` and `panel_mean` are what `with_panel()` and
`with_score()` read: the current run's ship and skip reviews and mean score (abstentions have
no score and are not averaged). Counting them per request grouped every review of every tool
(hundreds of milliseconds at 10,000 tools), so the database keeps them, in the writer's
transaction: any review write of a tool's current run, and any change of a tool's current run,
recounts that tool's row from its reviews. A recount, not an increment: a run's reviews are
written by one worker at a time and become current together, and a recount cannot drift.

A Tool.save() writes every column, the stored tally too, from a copy that may be stale: a
write to the tally columns that is not the recount is itself recounted.
"""

RECOUNT = {
    "panel_ship": "(SELECT COUNT(*) FROM panel_review r WHERE r.run_id = {run} AND r.verdict = 'ship')",
    "panel_skip": "(SELECT COUNT(*) FROM panel_review r WHERE r.run_id = {run} AND r.verdict = 'skip')",
    "panel_mean": "(SELECT {avg} FROM panel_review r WHERE r.run_id = {run})",
}
AVG = {"sqlite": "AVG(r.score)", "postgresql": "AVG(r.score)::double precision"}
REVIEW_CHANGED = (
    "OLD.run_id IS DISTINCT FROM NEW.run_id OR OLD.verdict IS DISTINCT FROM NEW.verdict "
    "OR OLD.score IS DISTINCT FROM NEW.score"
)
TALLY_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ["current_run_id", *RECOUNT])


def recount_set(vendor: str, run: str = "catalog_tool.current_run_id") -> str:
    """The SET list that recounts a tool's panel tally from its current run's reviews."""
    return ", ".join(f"{column} = {sql.format(run=run, avg=AVG[vendor])}" for column, sql in RECOUNT.items())


def _sqlite(text: str) -> str:
    return text.replace("IS DISTINCT FROM", "IS NOT")


def sqlite_create() -> list[str]:
    recount = f"UPDATE catalog_tool SET {recount_set('sqlite')}"  # noqa: S608 - constants only
    rows = {"INSERT": "(NEW.run_id)", "DELETE": "(OLD.run_id)", "UPDATE": "(OLD.run_id, NEW.run_id)"}
    statements = [
        f"CREATE TRIGGER catalog_tally_review_{event.lower()} AFTER {event} ON panel_review FOR EACH ROW"
        + (f" WHEN {_sqlite(REVIEW_CHANGED)}" if event == "UPDATE" else "")
        + f" BEGIN {recount} WHERE current_run_id IN {runs}; END"
        for event, runs in rows.items()
    ]
    # SQLite runs no trigger from inside itself (recursive_triggers is off), so the recount's
    # own UPDATE of the tally columns does not come back here.
    statements += [
        "CREATE TRIGGER catalog_tally_tool_insert AFTER INSERT ON catalog_tool FOR EACH ROW "
        f"WHEN NEW.current_run_id IS NOT NULL BEGIN {recount} WHERE id = NEW.id; END",
        f"CREATE TRIGGER catalog_tally_tool_update AFTER UPDATE ON catalog_tool FOR EACH ROW "
        f"WHEN {_sqlite(TALLY_CHANGED)} BEGIN {recount} WHERE id = NEW.id; END",
    ]
    return statements


SQLITE_NAMES = [f"catalog_tally_review_{e}" for e in ("insert", "update", "delete")] + [
    "catalog_tally_tool_insert",
    "catalog_tally_tool_update",
]


def sqlite_drop() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_NAMES]


def postgresql_create() -> list[str]:
    recount = f"UPDATE catalog_tool SET {recount_set('postgresql')}"  # noqa: S608 - constants only
    # On a tool row the tally is set in a BEFORE trigger: no second UPDATE of the row (and no
    # second page-cache bump from it).
    set_new = " ".join(
        f"NEW.{column} := {sql.format(run='NEW.current_run_id', avg=AVG['postgresql'])};"
        for column, sql in RECOUNT.items()
    )
    return [
        "CREATE OR REPLACE FUNCTION catalog_tally_review() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {recount} WHERE current_run_id = OLD.run_id; END IF; "
        f"IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.run_id IS DISTINCT FROM OLD.run_id) THEN "
        f"{recount} WHERE current_run_id = NEW.run_id; END IF; "
        "RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION catalog_tally_tool() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{set_new} RETURN NEW; END $$",
        *[
            f"CREATE TRIGGER catalog_tally_review_{event.lower()} AFTER {event} ON panel_review FOR EACH ROW"
            + (f" WHEN ({REVIEW_CHANGED})" if event == "UPDATE" else "")
            + " EXECUTE FUNCTION catalog_tally_review()"
            for event in ("INSERT", "UPDATE", "DELETE")
        ],
        "CREATE TRIGGER catalog_tally_tool_insert BEFORE INSERT ON catalog_tool FOR EACH ROW "
        "WHEN (NEW.current_run_id IS NOT NULL) EXECUTE FUNCTION catalog_tally_tool()",
        "CREATE TRIGGER catalog_tally_tool_update BEFORE UPDATE ON catalog_tool FOR EACH ROW "
        f"WHEN ({TALLY_CHANGED}) EXECUTE FUNCTION catalog_tally_tool()",
    ]


def postgresql_drop() -> list[str]:
    return (
        [
            f"DROP TRIGGER IF EXISTS catalog_tally_review_{e} ON panel_review"
            for e in ("insert", "update", "delete")
        ]
        + [f"DROP TRIGGER IF EXISTS catalog_tally_tool_{e} ON catalog_tool" for e in ("insert", "update")]
        + [f"DROP FUNCTION IF EXISTS catalog_tally_{what}()" for what in ("review", "tool")]
    )


# The listing's default order (catalog/listing.py's "panel" sort, all tools and a category's
# ranking), so a page of it is read off an index with LIMIT/OFFSET instead of sorting every
# tool. NULLS LAST is SQLite's own order for DESC (and its indexes take no NULLS clause).
PANEL_ORDER = "panel_mean DESC{nulls}, panel_ship DESC, panel_skip, name, id"
INDEXES = {"tool_panel_order": "", "tool_category_panel_order": "category_id, "}
NULLS = {"sqlite": "", "postgresql": " NULLS LAST"}


def create_indexes(vendor: str) -> list[str]:
    return [
        f"CREATE INDEX {name} ON catalog_tool ({lead}{PANEL_ORDER.format(nulls=NULLS[vendor])})"
        for name, lead in INDEXES.items()
    ]


def create(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": sqlite_create, "postgresql": postgresql_create}[vendor]()
    for statement in statements + create_indexes(vendor):
        schema_editor.execute(statement)
    # Backfill: every tool's tally from the reviews already stored.
    schema_editor.execute(f"UPDATE catalog_tool SET {recount_set(vendor)}")  # noqa: S608


def drop(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": sqlite_drop, "postgresql": postgresql_drop}[vendor]() + [
        f"DROP INDEX IF EXISTS {name}" for name in INDEXES
    ]:
        schema_editor.execute(statement)
