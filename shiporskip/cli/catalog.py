"""`shiporskip catalog load|check` and `shiporskip add`: the catalog from files or flags."""

import datetime

import yaml

from shiporskip.cli.base import CLIError, Parser, share


def add_catalog_parser(sub) -> None:
    cat = sub.add_parser("catalog", help="load the catalog from a file; check its evidence")
    cat_sub = cat.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    load = cat_sub.add_parser("load", help="upsert categories and tools by slug (idempotent)")
    load.add_argument("file", nargs="?", help="YAML or JSON file (default: the bundled catalog)")
    check = cat_sub.add_parser(
        "check",
        help="evidence coverage, age and warnings per tool",
        description="Per tool: the share of the facts that apply to its kind that are known, "
        "the capability figures, the date its volatile facts were checked, and warnings. "
        "Checks the site's catalog, or FILE without loading it.",
    )
    check.add_argument("file", nargs="?", help="a catalog file to check instead of the site's catalog")
    check.add_argument("--json", action="store_true", help="one JSON object per tool")
    check.add_argument(
        "--min-coverage",
        type=share,
        metavar="SHARE",
        help="exit with status 1 when a tool's coverage is below SHARE (0-1)",
    )


def add_add_parser(sub) -> None:
    add = sub.add_parser(
        "add",
        help="add or update a tool from a file or from flags",
        description="Add tools from a YAML/JSON file (one tool, a list, or a "
        "catalog), or one tool from flags. Nothing is added if anything is invalid.",
    )
    add.add_argument("--file", help="YAML or JSON file")
    add.add_argument("--name")
    add.add_argument("--category", help="category slug, e.g. coding-assistants")
    add.add_argument("--kind", help="model, app, api, library or platform")
    add.add_argument("--source", action="append", default=[], help="source URL (repeatable)")
    add.add_argument("--facts-as-of", help="date the facts were checked (default: today)")
    add.add_argument(
        "--fact",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another fact, e.g. open_weights=true or runtimes=[Ollama, vLLM]",
    )
    for flag in ("vendor", "best-for", "description", "pricing", "entry-price", "license", "website"):
        add.add_argument(f"--{flag}", default="")
    add.add_argument("--review", action="store_true", help="run the panel on it now")


def cmd_catalog(args) -> int:
    from shiporskip.catalog.loading import CatalogError, load_bundled, load_file
    from shiporskip.panel.personas import ensure_personas

    if args.action == "check":
        return check_catalog(args)

    try:
        result = load_file(args.file) if args.file else load_bundled()
    except CatalogError as exc:
        raise CLIError(str(exc)) from None
    ensure_personas()
    print(f"catalog: {result.created} added, {result.updated} updated, {result.unchanged} unchanged")
    if result.refacted:
        print(
            f"catalog: {result.refacted} reviewed tool(s) with changed facts queued for a "
            "re-review; the worker (`shiporskip up`) runs them"
        )
    return 0


def check_catalog(args) -> int:
    from shiporskip.catalog.check import check_tools, report
    from shiporskip.catalog.loading import CatalogError, parse_tools, read_file
    from shiporskip.catalog.models import Tool

    if args.file:
        try:
            _, entries = parse_tools(read_file(args.file))
        except CatalogError as exc:
            raise CLIError(str(exc)) from None
        tools = [(e.slug, e.facts) for e in entries]
    else:
        tools = [(t.slug, t.parsed_facts) for t in Tool.objects.order_by("slug")]
        if not tools:
            raise CLIError("the catalog is empty: run `shiporskip catalog load` first, or give a FILE")
    return report(check_tools(tools), as_json=args.json, min_coverage=args.min_coverage)


def tool_from_flags(args) -> dict:
    from shiporskip.control_chars import MULTILINE, problem

    for flag in (
        "name",
        "category",
        "kind",
        "source",
        "facts-as-of",
        "fact",
        "vendor",
        "best-for",
        "description",
        "pricing",
        "entry-price",
        "license",
        "website",
    ):
        values = getattr(args, flag.replace("-", "_")) or []
        for value in [values] if isinstance(values, str) else values:  # the rule of catalog files
            if message := problem(value, MULTILINE if flag == "description" else ""):
                raise CLIError(f"--{flag} {message}")
    missing = [f"--{n}" for n in ("name", "category", "kind") if not getattr(args, n)]
    if not args.source:
        missing.append("--source")
    if missing:
        raise CLIError(f"add needs --file, or at least {', '.join(missing)}")
    facts = {
        "kind": args.kind,
        "sources": args.source,
        "facts_as_of": args.facts_as_of or datetime.date.today().isoformat(),
    }
    for item in args.fact:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"--fact {item!r} should look like KEY=VALUE")
        try:
            facts[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise CLIError(
                f"--fact {item!r}: the value is not valid YAML; quote it, or close its brackets"
            ) from None
    fields = {
        n: getattr(args, n.replace("-", "_"))
        for n in (
            "name",
            "category",
            "vendor",
            "best-for",
            "description",
            "pricing",
            "entry-price",
            "license",
            "website",
        )
    }
    tool = {k.replace("-", "_"): v for k, v in fields.items()}
    tool["website"] = tool["website"] or None
    return {**tool, "facts": facts}


def cmd_add(args) -> int:
    from django.conf import settings

    from shiporskip.catalog.loading import CatalogError, load_catalog, parse_tools, read_file
    from shiporskip.catalog.models import Tool
    from shiporskip.panel.backends import ReviewerError, get_reviewer
    from shiporskip.panel.personas import ensure_personas
    from shiporskip.panel.running import review_tool
    from shiporskip.panel.tasks import queue_panel_run

    try:
        get_reviewer(settings.SHIPORSKIP_MODEL)  # before anything is written
        data = read_file(args.file) if args.file else tool_from_flags(args)
        _, entries = parse_tools(data)
        result = load_catalog(data, by="add")
    except (CatalogError, ReviewerError) as exc:
        raise CLIError(str(exc)) from None
    ensure_personas()
    print(f"add: {result.created} added, {result.updated} updated, {result.unchanged} unchanged")
    for tool in Tool.objects.filter(slug__in=[e.slug for e in entries]).select_related("category"):
        if args.review:
            try:
                run = review_tool(tool=tool)
            except ReviewerError as exc:
                print(f"{tool.slug}: {exc}")
                continue
            print(f"{tool.slug}: panel {run.status}{': ' + run.error if run.error else ''}")
        else:
            queue_panel_run(tool=tool)
            print(
                f"{tool.slug}: panel run queued; the worker (`shiporskip up`) runs it, "
                f"or run it now with `shiporskip review {tool.slug}`"
            )
    return 0
