"""A reviewed catalog of any size, built in seconds: what tests/test_scale.py and bench/render.py measure.

The offline panel reviews about a hundred tools a second, so 10,000 tools reviewed for real would
take minutes. Instead the bundled catalog is reviewed for real, and each added tool copies one
bundled tool's catalog entry and facts (spread over every category) with a finished panel run
and one review per persona copied from that tool's current reviews: the rows the offline panel
stores, in the same shape, the verdict recomputed by nothing (it is the source's, which the same
facts earn).

Everything is written by the database itself: one INSERT ... SELECT per table over a numbers
CTE (the copy numbers) joined to the source rows, then one UPDATE for the current runs, so
10,000 tools take a few statements on SQLite and PostgreSQL alike, and the database's own
triggers (the FTS5 index, stored tallies) fire for every row as they would for the site's writes.
Columns are listed from the models: a field this module does not know is filled with its
default, and a field with no default stops the build with its name (say here how to copy it).
"""

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from shiporskip.catalog.loading import load_bundled
from shiporskip.catalog.models import Tool
from shiporskip.panel.models import PanelRun, Review
from shiporskip.panel.personas import load_personas
from shiporskip.panel.running import COPIED_REVIEW_FIELDS, review_tool

# What a copied tool, run and review keep of their source (the review: running.copy_review's
# list, less the call key, made unique per copy, and the raw reply: no page shows it).
TOOL_FIELDS = [
    "vendor",
    "category",
    "best_for",
    "description",
    "pricing",
    "entry_price",
    "license",
    "website",
    "facts",
    "rival_features",
]
RUN_FIELDS = ["model", "samples", "personas_total", "personas_done", "progress", "facts"]
REVIEW_FIELDS = [
    "persona" if f == "persona_id" else f for f in COPIED_REVIEW_FIELDS if f not in ("call_key", "raw_reply")
] + ["self_review"]

# The copies, numbered n = start .. start + need - 1, each with its source tool `t` (the
# sources in a fixed order, copy n from source (n - start) mod K) and its own new row `nt`,
# found by its slug (unique, indexed). Only integers from the database are written in.
NUMBERS = (
    "WITH RECURSIVE nums(n) AS (SELECT {start} UNION ALL SELECT n + 1 FROM nums "
    "WHERE n < {last}), src(k, id) AS (VALUES {sources}) "
)
COPIES = "nums JOIN src ON src.k = (nums.n - {start}) %% {count} JOIN catalog_tool t ON t.id = src.id"
NEW_TOOL = "JOIN catalog_tool nt ON nt.slug = t.slug || '-copy-' || CAST(nums.n AS TEXT)"


def bundled_reviewed() -> None:
    """The bundled personas and catalog, every tool reviewed by the offline panel."""
    load_personas()
    load_bundled()
    for tool in Tool.objects.filter(current_run__isnull=True).select_related("category"):
        review_tool(tool=tool, model="offline")


def grow_reviewed(total: int) -> int:
    """Add reviewed copies of the reviewed tools until the catalog holds `total`; the count added."""
    sources = list(Tool.objects.reviewed().order_by("category_id", "pk").values_list("pk", flat=True))
    if not sources:
        raise ValueError("grow_reviewed() copies reviewed tools: review some first")
    start = Tool.objects.count()
    need = total - start
    if need <= 0:
        return 0
    head = NUMBERS.format(
        start=int(start),
        last=int(start + need - 1),
        sources=", ".join(f"({k}, {int(pk)})" for k, pk in enumerate(sources)),
    )
    copies = COPIES.format(start=int(start), count=len(sources))
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        for (sql, params), table in (
            (_tools(head, copies, now), Tool),
            (_runs(head, copies, now), PanelRun),
            (_reviews(head, copies, now), Review),
        ):
            cursor.execute(sql, params)
            if connection.vendor == "postgresql":
                # Fresh statistics: planned for the 58 rows it knew, the next join (and the
                # UPDATE below) scan the whole new table once per row, for minutes.
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table._meta.db_table)}")
        # Each copy's current run is its only run: older than the bundled tools' verdicts, one
        # second apart, so "latest" has one stable order.
        latest = PanelRun.objects.filter(tool=OuterRef("pk"), status="done").order_by("-finished_at", "-pk")
        Tool.objects.filter(current_run__isnull=True).update(current_run=Subquery(latest.values("pk")[:1]))
    return need


def _tools(head: str, copies: str, now):
    made = {
        "name": "t.name || ' copy ' || CAST(nums.n AS TEXT)",
        "slug": "t.slug || '-copy-' || CAST(nums.n AS TEXT)",
        **{f: f"t.{Tool._meta.get_field(f).column}" for f in TOOL_FIELDS},
    }
    return _insert(Tool, made, now, head, f"FROM {copies}")


def _runs(head: str, copies: str, now):
    at = _seconds_before(now, "nums.n")
    made = {
        "tool": "nt.id",
        "status": _value(PanelRun._meta.get_field("status"), PanelRun.Status.DONE),
        "started_at": at,
        "heartbeat_at": at,
        "finished_at": at,
        # Each copy's only run: its first verdict, so news (panel/history.py record_event).
        "verdict_event": _value(PanelRun._meta.get_field("verdict_event"), True),
        **{f: f"r.{PanelRun._meta.get_field(f).column}" for f in RUN_FIELDS},
    }
    source = f"FROM {copies} JOIN panel_panelrun r ON r.id = t.current_run_id {NEW_TOOL}"
    return _insert(PanelRun, made, now, head, source)


def _reviews(head: str, copies: str, now):
    number = "CAST(nums.n AS TEXT)"
    made = {
        "run": "r.id",
        "tool": "nt.id",
        # A key as long as the source's, unique to the copy (the reuse lookup's index).
        "call_key": f"SUBSTR(rv.call_key, 1, 64 - LENGTH({number})) || {number}",
        **{f: f"rv.{Review._meta.get_field(f).column}" for f in REVIEW_FIELDS},
    }
    source = (
        f"FROM {copies} JOIN panel_review rv ON rv.run_id = t.current_run_id {NEW_TOOL} "
        "JOIN panel_panelrun r ON r.tool_id = nt.id"
    )
    return _insert(Review, made, now, head, source)


def _insert(model, made: dict, now, head: str, source: str) -> tuple[str, list]:
    """One INSERT ... SELECT filling every column of `model`: `made`'s expressions (SQL over the
    source rows, or (SQL, params)), else the field's default (`now` for auto_now fields)."""
    quote = connection.ops.quote_name
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        expression = made.get(field.name) or _default(field, now)
        sql, args = (expression, []) if isinstance(expression, str) else expression
        columns.append(quote(field.column))
        values.append(sql)
        params += args
    sql = (
        f"{head}INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} {source}"
    )
    return sql, params


def _default(field, now) -> tuple[str, list]:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return _value(field, now)
    value = field.get_default()  # a text field's is "", as a model instance's
    if value is not None or field.null:
        return _value(field, value)
    raise ValueError(
        f"tests/scale.py copies no {field.model.__name__}.{field.name}: say how in its field lists"
    )


def _value(field, value) -> tuple[str, list]:
    """A parameter in the field's database type (PostgreSQL types a bare one as text)."""
    prepared = field.get_db_prep_save(value, connection)
    if connection.vendor == "postgresql":
        return f"CAST(%s AS {field.cast_db_type(connection)})", [prepared]
    return "%s", [prepared]


def _seconds_before(now, seconds: str) -> tuple[str, list]:
    """`now` less `seconds` (an SQL integer) seconds, as each database stores a datetime."""
    if connection.vendor == "postgresql":
        return f"CAST(%s AS timestamptz) - {seconds} * INTERVAL '1 second'", [now]
    # SQLite keeps UTC text; datetime() writes it to the second, which orders with the rest.
    return f"datetime(%s, '-' || {seconds} || ' seconds')", [connection.ops.adapt_datetimefield_value(now)]
