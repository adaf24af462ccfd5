"""The `shiporskip` command: run the site, manage the catalog, run the panel, compare."""

import argparse
import datetime
import json
import os
import sys

import yaml


class CLIError(Exception):
    """A bad argument or input: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="shiporskip", description=(
        "Ship or Skip: a panel of AI reviewers tells you which AI tool to ship with. "
        "Data lives under $SHIPORSKIP_DATA_DIR (default ./data)."))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=Parser)

    up = sub.add_parser("up", help="migrate, load the catalog, start the web server and worker",
                        description="Migrate the database, load the bundled catalog if it is "
                        "empty, queue panel runs for unreviewed tools, then serve the site and "
                        "run the worker until Ctrl-C.")
    up.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    up.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")
    up.add_argument("--model", help="reviewer backend as provider/model "
                    "(default: $SHIPORSKIP_MODEL or offline)")
    up.add_argument("--log-to-stderr", action="store_true", help="show the web server's and the "
                    "worker's logs here (default: files under the data dir's logs/)")

    sub.add_parser("worker", help="run the background worker alone (panel runs, weekly digest)")

    cat = sub.add_parser("catalog", help="load the catalog from a file; check its evidence")
    cat_sub = cat.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    load = cat_sub.add_parser("load", help="upsert categories and tools by slug (idempotent)")
    load.add_argument("file", nargs="?", help="YAML or JSON file (default: the bundled catalog)")
    check = cat_sub.add_parser(
        "check", help="evidence coverage, age and warnings per tool",
        description="Per tool: the share of the facts that apply to its kind that are known, "
        "the capability figures, the date its volatile facts were checked, and warnings. "
        "Checks the site's catalog, or FILE without loading it.")
    check.add_argument("file", nargs="?", help="a catalog file to check instead of the site's catalog")
    check.add_argument("--json", action="store_true", help="one JSON object per tool")
    check.add_argument("--min-coverage", type=share, metavar="SHARE",
                       help="exit with status 1 when a tool's coverage is below SHARE (0-1)")

    panel = sub.add_parser("panel", help="panel health over the catalog's current reviews")
    panel_sub = panel.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    stats = panel_sub.add_parser(
        "stats", help="persona correlations, ship shares, ties, single-fact predictors, doubt",
        description="How the panel judges the catalog: persona score correlations, ship share per "
        "persona and category, tools with identical scores, the share of panel verdicts one fact "
        "predicts, near-bar and provisional reviews, and how varied the written sentences are.")
    stats.add_argument("--json", action="store_true", help="the figures as one JSON object")

    per = sub.add_parser("personas", help="load reviewer personas")
    per_sub = per.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    pload = per_sub.add_parser("load", help="upsert personas by key")
    pload.add_argument("file", nargs="?", help="YAML file (default: the bundled panel)")

    add = sub.add_parser("add", help="add or update a tool from a file or from flags",
                         description="Add tools from a YAML/JSON file (one tool, a list, or a "
                         "catalog), or one tool from flags. Nothing is added if anything is invalid.")
    add.add_argument("--file", help="YAML or JSON file")
    add.add_argument("--name")
    add.add_argument("--category", help="category slug, e.g. coding-assistants")
    add.add_argument("--kind", help="model, app, api, library or platform")
    add.add_argument("--source", action="append", default=[], help="source URL (repeatable)")
    add.add_argument("--facts-as-of", help="date the facts were checked (default: today)")
    add.add_argument("--fact", action="append", default=[], metavar="KEY=VALUE",
                     help="another fact, e.g. open_weights=true or runtimes=[Ollama, vLLM]")
    for flag in ("vendor", "best-for", "description", "pricing", "entry-price", "license", "website"):
        add.add_argument(f"--{flag}", default="")
    add.add_argument("--review", action="store_true", help="run the panel on it now")

    review = sub.add_parser("review", help="run the panel on tools now, with a progress bar")
    review.add_argument("slugs", nargs="*", metavar="SLUG")
    review.add_argument("--all", action="store_true", help="every tool in the catalog")
    review.add_argument("--model", help="reviewer backend as provider/model, e.g. "
                        "ollama/qwen2.5:7b (default: $SHIPORSKIP_MODEL or offline)")
    review.add_argument("--force", action="store_true",
                        help="call the model even where an identical call has a stored review")
    review.add_argument("--samples", type=sample_count, default=1, metavar="N",
                        help="ask each persona N times (1-10): the score is their mean, and "
                        "their lowest and highest are kept (default 1)")

    runs = sub.add_parser("runs", help="list recent panel runs with tokens, latency and cost")
    runs.add_argument("--limit", type=positive_int, default=20, help="how many (default 20)")
    runs.add_argument("--tool", metavar="SLUG", help="only this tool's runs")

    compare = sub.add_parser("compare", help="compare two tools side by side")
    compare.add_argument("a", metavar="A", help="tool slug")
    compare.add_argument("b", metavar="B", help="tool slug")
    compare.add_argument("--json", action="store_true", help="print JSON instead of a table")

    add_digest_parser(sub)
    add_backup_parsers(sub)

    manage = sub.add_parser("manage", help="run a Django management command (e.g. createsuperuser)")
    manage.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def add_backup_parsers(sub) -> None:
    backup = sub.add_parser(
        "backup", help="copy the database (and queue) into one file, while the site runs",
        description="Write the site's data into FILE (a .tar.gz with a manifest), atomically and "
        "readable by you only. SQLite: consistent snapshots of the database and the queue, taken "
        "while the site runs. PostgreSQL: pg_dump --format=custom.")
    backup.add_argument("file", metavar="FILE", help="where to write it, e.g. shiporskip-2026-05-01.tar.gz")
    backup.add_argument("--with-secret-key", action="store_true",
                        help="include the secret key (it signs sessions and reset links: whoever "
                        "reads the backup could forge them); without it, readers sign in again "
                        "after a restore elsewhere")
    restore = sub.add_parser(
        "restore", help="replace the site's data with a backup, then migrate",
        description="Check FILE (manifest, checksums, schema) and replace the site's database "
        "with it in one step, then apply migrations. Refuses while the site runs on the data dir.")
    restore.add_argument("file", metavar="FILE", help="a file made by `shiporskip backup`")
    restore.add_argument("--force", action="store_true",
                         help="restore even if the site seems to be running (only if you are sure it is not)")


def add_digest_parser(sub) -> None:
    digest = sub.add_parser("digest", help="preview and send the weekly newsletter, suppress addresses")
    actions = digest.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    preview = actions.add_parser("preview", help="render the next edition; store and send nothing")
    preview.add_argument("--html", metavar="FILE", help="write the HTML part to FILE (- for stdout)")
    preview.add_argument("--text", metavar="FILE", help="write the plain-text part to FILE "
                         "(default: stdout unless --html is given)")
    send = actions.add_parser("send", help="send the next edition (or finish one cut off), "
                              "with a progress bar")
    send.add_argument("--dry-run", action="store_true", help="say what would be sent; store and send nothing")
    suppress = actions.add_parser("suppress", help="never email an address again (bounce, complaint)")
    suppress.add_argument("email", metavar="EMAIL")
    suppress.add_argument("--reason", choices=["bounce", "complaint", "manual"], default="manual",
                          help="why (default manual)")
    actions.add_parser("status", help="subscribers by status, suppressions, recent editions")


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def sample_count(text: str) -> int:
    from shiporskip.panel.sampling import MAX_SAMPLES

    if not text.isdigit() or not 1 <= int(text) <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {MAX_SAMPLES}")
    return int(text)


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 and 1, e.g. 0.7")
    return value


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 65535")
    return value


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiporskip.settings")
    os.umask(0o077)  # before the settings make the data dir and key: private from the start
    import django

    django.setup()
    keep_data_private()


def keep_data_private() -> None:
    from django.conf import settings

    from shiporskip.conf import keep_private

    if fixed := keep_private(settings.DATA_DIR):
        print(f"shiporskip: warning: {len(fixed)} path(s) in {settings.DATA_DIR} could be read by "
              "other users of this machine (sessions, reset links, the secret key); they are now "
              "owner-only (0700 folders, 0600 files).", file=sys.stderr)


def ensure_migrated() -> None:
    """Apply pending migrations first, so any command works on a fresh data dir."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from django.core.exceptions import ImproperlyConfigured

        try:
            setup_django()
        except ImproperlyConfigured as exc:
            raise CLIError(f"configuration: {exc}") from None
        if args.command in NEEDS_SCHEMA:
            ensure_migrated()
        return COMMANDS[args.command](args) or 0
    except CLIError as exc:
        print(f"shiporskip: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_up(args) -> int:
    from shiporskip.backup import site_in_use
    from shiporskip.serve import up

    with site_in_use():  # `restore` refuses while this is held, and `up` while a restore runs
        return up(host=args.host, port=args.port, model=args.model, log_to_stderr=args.log_to_stderr)


def cmd_worker(args) -> int:
    from django.core.management import call_command

    from shiporskip.backup import site_in_use
    from shiporskip.panel.heartbeat import exit_leaving_abandoned_calls

    with site_in_use():
        call_command("run_huey")
    exit_leaving_abandoned_calls(0)  # stopped mid-run: its runs are queued again already
    return 0


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
    print(f"catalog: {result.created} added, {result.updated} updated, "
          f"{result.unchanged} unchanged")
    if result.refacted:
        print(f"catalog: {result.refacted} reviewed tool(s) with changed facts queued for a "
              "re-review; the worker (`shiporskip up`) runs them")
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


def cmd_panel(args) -> int:
    from shiporskip.panel.stats import panel_stats

    stats = panel_stats()
    if not stats["reviews"]:
        raise CLIError("no reviews yet: run `shiporskip review --all` first")
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"{stats['tools']} tools, {stats['reviews']} reviews; panel verdicts {stats['panel_verdicts']}")
    print("persona correlation: " + ", ".join(f"{k} {v}" for k, v in stats["correlation"].items()))
    share = lambda v: "–" if v is None else f"{v:.0%}"  # noqa: E731 - a persona may not have reviewed a category
    print("ship share: " + ", ".join(f"{k} {share(v)}" for k, v in stats["ship_share"].items()))
    for cat, shares in stats["ship_share_by_category"].items():
        print(f"  {cat}: " + ", ".join(f"{k} {share(v)}" for k, v in shares.items()))
    fact = stats["single_fact"]
    print(f"one fact predicts {fact['share']:.0%} of panel verdicts ({fact['fact']})")
    print(f"tied score groups: {len(stats['tied_groups'])} {stats['tied_groups'] or ''}".rstrip())
    print(f"distinct scores: {stats['distinct_values']}; near the bar: {stats['near_bar']}; "
          f"provisional: {stats['provisional']}; mean coverage {stats['mean_coverage']:.0%}")
    print(f"sentences: {stats['sentences']}, {share(stats['distinct_sentences'])} distinct; the most "
          f"repeated is in {stats['most_repeated_sentence_tools']} tools' reviews")
    return 0


def cmd_personas(args) -> int:
    from shiporskip.panel.personas import PersonaError, load_personas

    try:
        count = load_personas(args.file)
    except (PersonaError, OSError, yaml.YAMLError) as exc:
        raise CLIError(str(exc)) from None
    print(f"personas: {count} loaded")
    return 0


def tool_from_flags(args) -> dict:
    from shiporskip.control_chars import MULTILINE, problem

    for flag in ("name", "category", "kind", "source", "facts-as-of", "fact", "vendor", "best-for",
                 "description", "pricing", "entry-price", "license", "website"):
        values = getattr(args, flag.replace("-", "_")) or []
        for value in [values] if isinstance(values, str) else values:  # the rule of catalog files
            if message := problem(value, MULTILINE if flag == "description" else ""):
                raise CLIError(f"--{flag} {message}")
    missing = [f"--{n}" for n in ("name", "category", "kind") if not getattr(args, n)]
    if not args.source:
        missing.append("--source")
    if missing:
        raise CLIError(f"add needs --file, or at least {', '.join(missing)}")
    facts = {"kind": args.kind, "sources": args.source,
             "facts_as_of": args.facts_as_of or datetime.date.today().isoformat()}
    for item in args.fact:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"--fact {item!r} should look like KEY=VALUE")
        try:
            facts[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise CLIError(f"--fact {item!r}: the value is not valid YAML; quote it, or "
                           "close its brackets") from None
    fields = {n: getattr(args, n.replace("-", "_")) for n in (
        "name", "category", "vendor", "best-for", "description", "pricing",
        "entry-price", "license", "website")}
    tool = {k.replace("-", "_"): v for k, v in fields.items()}
    tool["website"] = tool["website"] or None
    return {**tool, "facts": facts}


def cmd_add(args) -> int:
    from django.conf import settings

    from shiporskip.catalog.loading import CatalogError, load_catalog, parse_tools, read_file
    from shiporskip.catalog.models import Tool
    from shiporskip.panel.backends import ReviewerError, get_reviewer
    from shiporskip.panel.personas import ensure_personas
    from shiporskip.panel.running import queue_panel_run, review_tool

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
            print(f"{tool.slug}: panel run queued; the worker (`shiporskip up`) runs it, "
                  f"or run it now with `shiporskip review {tool.slug}`")
    return 0


def cmd_review(args) -> int:
    from shiporskip.review_cli import review

    if bool(args.slugs) == args.all:
        raise CLIError("review needs tool slugs or --all (not both)")
    return review(slugs=args.slugs, everything=args.all, model=args.model, force=args.force,
                  samples=args.samples)


def cmd_runs(args) -> int:
    from shiporskip.runs_cli import print_runs

    return print_runs(limit=args.limit, tool=args.tool)


def cmd_compare(args) -> int:
    from shiporskip.compare import comparison, terminal

    if args.a == args.b:
        raise CLIError("compare needs two different tools")
    result = comparison.load(args.a, args.b)
    if result is None:
        from shiporskip.catalog.models import Tool

        known = set(Tool.objects.filter(slug__in=[args.a, args.b]).values_list("slug", flat=True))
        unknown = [s for s in (args.a, args.b) if s not in known]
        raise CLIError(f"no tool with slug {unknown[0]!r}; list them at /, or `shiporskip "
                       "catalog load` to load the bundled catalog")
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(terminal.render(result))
    return 0


def cmd_digest(args) -> int:
    from shiporskip.newsletter import cli as digest

    if args.action == "preview":
        return digest.preview(html=args.html, text=args.text)
    if args.action == "send":
        return digest.send(dry_run=args.dry_run)
    if args.action == "suppress":
        return digest.suppress(email=args.email, reason=args.reason)
    return digest.status()


def cmd_backup(args) -> int:
    from shiporskip.backup import backup

    return backup(args.file, with_secret_key=args.with_secret_key)


def cmd_restore(args) -> int:
    from shiporskip.backup import restore

    return restore(args.file, force=args.force)


def cmd_manage(args) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["shiporskip manage", *args.args])
    return 0


NEEDS_SCHEMA = {"catalog", "panel", "personas", "add", "review", "compare", "runs", "digest"}
COMMANDS = {"up": cmd_up, "worker": cmd_worker, "catalog": cmd_catalog,
            "panel": cmd_panel, "personas": cmd_personas, "add": cmd_add, "review": cmd_review,
            "compare": cmd_compare, "runs": cmd_runs, "digest": cmd_digest, "manage": cmd_manage,
            "backup": cmd_backup, "restore": cmd_restore}

if __name__ == "__main__":
    # As `python -m shiporskip.cli` this file is __main__: run the module other modules import,
    # so that the CLIError they raise is the class main() catches.
    from shiporskip.cli import main as imported_main

    sys.exit(imported_main())
