"""`shiporskip compare A B`: two tools side by side, as a table or JSON."""

import json

from shiporskip.cli.base import CLIError


def add_parser(sub) -> None:
    compare = sub.add_parser("compare", help="compare two tools side by side")
    compare.add_argument("a", metavar="A", help="tool slug")
    compare.add_argument("b", metavar="B", help="tool slug")
    compare.add_argument("--json", action="store_true", help="print JSON instead of a table")


def cmd_compare(args) -> int:
    from shiporskip.compare import comparison, terminal

    if args.a == args.b:
        raise CLIError("compare needs two different tools")
    result = comparison.load(args.a, args.b)
    if result is None:
        from shiporskip.catalog.models import Tool

        known = set(Tool.objects.filter(slug__in=[args.a, args.b]).values_list("slug", flat=True))
        unknown = [s for s in (args.a, args.b) if s not in known]
        raise CLIError(
            f"no tool with slug {unknown[0]!r}; list them at /, or `shiporskip "
            "catalog load` to load the bundled catalog"
        )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(terminal.render(result))
    return 0
