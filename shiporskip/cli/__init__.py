"""The `shiporskip` command: run the site, manage the catalog, run the panel, compare.

One module per command group, each with its parser and its commands; they share only
`base.py` (CLIError, the parser's class and argument types, Django's setup), and none of them
imports this module, so the package has no import cycle. The parser is built before Django is
set up: a group imports models and the apps' modules inside its commands.
"""

import argparse
import sys

from shiporskip.cli import backup, catalog, compare, digest, manage, panel, review, runs, serve
from shiporskip.cli.base import CLIError, Parser, ensure_migrated, setup_django


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="shiporskip",
        description=(
            "Ship or Skip: a panel of AI reviewers tells you which AI tool to ship with. "
            "Data lives under $SHIPORSKIP_DATA_DIR (default ./data)."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    serve.add_parsers(sub)  # up, worker
    catalog.add_catalog_parser(sub)
    panel.add_parsers(sub)  # panel, personas
    catalog.add_add_parser(sub)
    review.add_parser(sub)
    runs.add_parser(sub)
    compare.add_parser(sub)
    digest.add_parser(sub)
    backup.add_parsers(sub)  # backup, restore
    manage.add_parser(sub)
    return parser


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


NEEDS_SCHEMA = {"catalog", "panel", "personas", "add", "review", "compare", "runs", "digest"}
COMMANDS = {
    "up": serve.cmd_up,
    "worker": serve.cmd_worker,
    "catalog": catalog.cmd_catalog,
    "panel": panel.cmd_panel,
    "personas": panel.cmd_personas,
    "add": catalog.cmd_add,
    "review": review.cmd_review,
    "compare": compare.cmd_compare,
    "runs": runs.cmd_runs,
    "digest": digest.cmd_digest,
    "manage": manage.cmd_manage,
    "backup": backup.cmd_backup,
    "restore": backup.cmd_restore,
}
