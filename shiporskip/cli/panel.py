"""`shiporskip panel stats` and `shiporskip personas load`: the panel's health and its members."""

import json

import yaml

from shiporskip.cli.base import CLIError, Parser


def add_parsers(sub) -> None:
    panel = sub.add_parser("panel", help="panel health over the catalog's current reviews")
    panel_sub = panel.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    stats = panel_sub.add_parser(
        "stats",
        help="persona correlations, ship shares, ties, single-fact predictors, doubt",
        description="How the panel judges the catalog: persona score correlations, ship share per "
        "persona and category, tools with identical scores, the share of panel verdicts one fact "
        "predicts, near-bar and provisional reviews, and how varied the written sentences are.",
    )
    stats.add_argument("--json", action="store_true", help="the figures as one JSON object")

    per = sub.add_parser("personas", help="load reviewer personas")
    per_sub = per.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    pload = per_sub.add_parser("load", help="upsert personas by key")
    pload.add_argument("file", nargs="?", help="YAML file (default: the bundled panel)")


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
    print(
        f"distinct scores: {stats['distinct_values']}; near the bar: {stats['near_bar']}; "
        f"provisional: {stats['provisional']}; mean coverage {stats['mean_coverage']:.0%}"
    )
    print(
        f"sentences: {stats['sentences']}, {share(stats['distinct_sentences'])} distinct; the most "
        f"repeated is in {stats['most_repeated_sentence_tools']} tools' reviews"
    )
    return 0


def cmd_personas(args) -> int:
    from shiporskip.panel.personas import PersonaError, load_personas

    try:
        count = load_personas(args.file)
    except (PersonaError, OSError, yaml.YAMLError) as exc:
        raise CLIError(str(exc)) from None
    print(f"personas: {count} loaded")
    return 0
