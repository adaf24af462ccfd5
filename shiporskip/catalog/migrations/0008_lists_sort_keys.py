"""The list pages' sort and filter keys as columns of catalog_tool, and their indexes.

The price and newest sorts and the fact filters were SQL over the facts JSON, evaluated for every
tool on every page (tens of milliseconds at 10,000 tools) and beyond any index. Here the database
derives each key from the facts itself, so no writer keeps them and an index serves ORDER BY ...
LIMIT and the count: on PostgreSQL as STORED generated columns; on SQLite as plain columns that
triggers recompute when a tool is inserted or its facts change (SQLite cannot add a STORED
column to a table, and does not read a VIRTUAL one from an index: every count would parse the
facts again).

The columns are the database's, not the model's (catalog/listing.py reads them by name), like the
tally and search triggers: a Django table rebuild on SQLite would drop them, so add no migration
that rebuilds catalog_tool.

ASC NULLS LAST, which a SQLite index cannot give, is kept as DESC NULLS LAST of the negated value:
`list_price_order` is minus the band's rank (free 0 ... per-token 4), and the seat and token
prices are stored negated. The expressions are listing.py's former ones, word for word.
"""

from django.db import migrations

SQLITE = {
    "usd": "JSON_EXTRACT(facts, '$.price.currency') = 'USD'",
    "seat": "CAST(JSON_EXTRACT(facts, '$.price.seat_monthly') AS REAL)",
    "input": "CAST(JSON_EXTRACT(facts, '$.price.input_per_mtok') AS REAL)",
    "output": "CAST(JSON_EXTRACT(facts, '$.price.output_per_mtok') AS REAL)",
    "year": "CAST(JSON_EXTRACT(facts, '$.release_year') AS INTEGER)",
    "yes_no": "CASE JSON_TYPE(facts, '$.{dotted}') WHEN 'true' THEN 1 WHEN 'false' THEN 0 END",
    "int": "INTEGER",
    "real": "REAL",
}
POSTGRESQL = {
    "usd": "(facts #> '{price,currency}') = '\"USD\"'::jsonb",
    "seat": "((facts #>> '{price,seat_monthly}')::double precision)",
    "input": "((facts #>> '{price,input_per_mtok}')::double precision)",
    "output": "((facts #>> '{price,output_per_mtok}')::double precision)",
    "year": "((facts #>> '{release_year}')::integer)",
    "yes_no": "CASE facts #> '{{{commas}}}' WHEN 'true'::jsonb THEN 1 WHEN 'false'::jsonb THEN 0 END",
    "int": "integer",
    "real": "double precision",
}


def columns(sql: dict) -> dict[str, tuple[str, str]]:
    """Column name -> (its type, its expression over the row's facts), in one database's dialect."""
    usd, seat = sql["usd"], sql["seat"]

    def yes_no(*path: str) -> str:  # the fact is JSON true (1) or false (0); anything else NULL
        return sql["yes_no"].format(dotted=".".join(path), commas=",".join(path))

    token = f"((3 * {sql['input']} + {sql['output']}) / 4.0)"
    bands = [
        f"{seat} = 0",
        f"{seat} > 0 AND {seat} < 20",
        f"{seat} >= 20 AND {seat} <= 100",
        f"{seat} > 100",
        f"{seat} IS NULL AND {token} IS NOT NULL",
    ]
    rank = "CASE " + " ".join(f"WHEN {usd} AND {rule} THEN {i}" for i, rule in enumerate(bands)) + " END"
    exprs = {
        "list_price_order": (sql["int"], f"-({rank})"),
        "list_seat_order": (sql["real"], f"-{seat}"),
        "list_token_order": (sql["real"], f"-{token}"),
        "list_release_year": (sql["int"], sql["year"]),
        "list_open_weights": (sql["int"], yes_no("open_weights")),
        "list_self_hostable": (sql["int"], yes_no("self_hostable")),
        "list_free_tier": (sql["int"], yes_no("price", "free_tier")),
    }
    return exprs


def sqlite_create() -> list[str]:
    keys = columns(SQLITE)
    sets = ", ".join(f"{name} = {expr}" for name, (_, expr) in keys.items())
    recount = f"UPDATE catalog_tool SET {sets}"  # noqa: S608 - constants only
    return [
        *[f"ALTER TABLE catalog_tool ADD COLUMN {name} {kind}" for name, (kind, _) in keys.items()],
        # After the row is written: the UPDATE of the keys alone fires no trigger of its own.
        f"CREATE TRIGGER catalog_list_keys_insert AFTER INSERT ON catalog_tool FOR EACH ROW "
        f"BEGIN {recount} WHERE id = NEW.id; END",
        f"CREATE TRIGGER catalog_list_keys_update AFTER UPDATE OF facts ON catalog_tool FOR EACH ROW "
        f"BEGIN {recount} WHERE id = NEW.id; END",
        recount,  # the tools already stored
    ]


def postgresql_create() -> list[str]:
    return [
        f"ALTER TABLE catalog_tool ADD COLUMN {name} {kind} GENERATED ALWAYS AS ({expr}) STORED"
        for name, (kind, expr) in columns(POSTGRESQL).items()
    ]


# Each sort's ORDER BY (catalog/listing.py `ordered`), for all tools and within a category; and
# the filters' columns with the name, so the count and a filtered, sorted page read one index.
DESC = "{col} DESC{nulls}"
ORDERS = {
    "price": ["list_price_order", "list_seat_order", "list_token_order"],
    "newest": ["list_release_year", "created_at"],
}
FILTER_INDEX = (
    "CREATE INDEX tool_list_filters ON catalog_tool (category_id, panel_ship, panel_skip, list_price_order, "
    "list_open_weights, list_self_hostable, list_free_tier, name)"
)


def indexes(vendor: str) -> list[str]:
    nulls = " NULLS LAST" if vendor == "postgresql" else ""  # SQLite's DESC puts NULLs last
    statements = []
    for sort, keys in ORDERS.items():
        order = ", ".join(DESC.format(col=k, nulls=nulls) for k in keys) + ", name, id"
        statements.append(f"CREATE INDEX tool_list_{sort} ON catalog_tool ({order})")
        statements.append(f"CREATE INDEX tool_category_list_{sort} ON catalog_tool (category_id, {order})")
    return statements + [FILTER_INDEX]


INDEX_NAMES = [f"tool_{scope}list_{sort}" for sort in ORDERS for scope in ("", "category_")] + [
    "tool_list_filters"
]


def create(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": sqlite_create, "postgresql": postgresql_create}[vendor]() + indexes(vendor):
        schema_editor.execute(statement)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for event in ("insert", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS catalog_list_keys_{event}")
    for name in INDEX_NAMES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for name in columns(SQLITE):
        schema_editor.execute(f"ALTER TABLE catalog_tool DROP COLUMN {name}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0007_stored_panel_tally")]

    operations = [migrations.RunPython(create, drop)]
