"""`shiporskip review`: run the panel on tools in this process, with a progress bar."""

import sys

from shiporskip.cli.base import CLIError, sample_count


def add_parser(sub) -> None:
    review = sub.add_parser("review", help="run the panel on tools now, with a progress bar")
    review.add_argument("slugs", nargs="*", metavar="SLUG")
    review.add_argument("--all", action="store_true", help="every tool in the catalog")
    review.add_argument(
        "--model",
        help="reviewer backend as provider/model, e.g. "
        "ollama/qwen2.5:7b (default: $SHIPORSKIP_MODEL or offline)",
    )
    review.add_argument(
        "--force", action="store_true", help="call the model even where an identical call has a stored review"
    )
    review.add_argument(
        "--samples",
        type=sample_count,
        default=1,
        metavar="N",
        help="ask each persona N times (1-10): the score is their mean, and "
        "their lowest and highest are kept (default 1)",
    )


def cmd_review(args) -> int:
    if bool(args.slugs) == args.all:
        raise CLIError("review needs tool slugs or --all (not both)")
    return review(
        slugs=args.slugs, everything=args.all, model=args.model, force=args.force, samples=args.samples
    )


def review(
    *, slugs: list[str], everything: bool, model: str | None, force: bool = False, samples: int = 1
) -> int:
    from django.conf import settings

    from shiporskip.catalog.models import Tool
    from shiporskip.panel.backends import ReviewerError, get_reviewer
    from shiporskip.panel.heartbeat import Stopped, stop_on_signals
    from shiporskip.panel.models import Persona
    from shiporskip.panel.personas import ensure_personas

    model = model or settings.SHIPORSKIP_MODEL
    try:
        get_reviewer(model)
    except ReviewerError as exc:
        raise CLIError(str(exc)) from None
    tools = list(
        Tool.objects.select_related("category").order_by("name")
        if everything
        else Tool.objects.filter(slug__in=slugs).select_related("category")
    )
    unknown = sorted(set(slugs) - {t.slug for t in tools})
    if unknown:
        raise CLIError(f"no tool with slug {', '.join(map(repr, unknown))}")
    ensure_personas()
    panel = Persona.objects.active().count()
    try:
        with stop_on_signals():
            failed = review_each(tools, panel, model=model, force=force, samples=samples)
    except Stopped as exc:  # SIGTERM (timeout, systemd, a container stop) or Ctrl-C
        # execute() has marked the run in progress failed with the reason: the tool is free.
        print(f"review: {exc}; a run in progress was marked failed", file=sys.stderr)
        exc.exit()
    done = len(tools) - failed
    each = f" ({samples} samples per persona)" if samples > 1 else ""
    print(f"review: {done} tool(s) reviewed by {model}{each}, {failed} failed")
    return 1 if failed else 0


def review_each(tools, panel: int, *, model: str, force: bool, samples: int) -> int:
    """Review the tools one by one behind a progress bar; return how many failed."""
    from tqdm import tqdm

    from shiporskip.panel.backends import ReviewerError
    from shiporskip.panel.running import review_tool

    failed = 0
    with tqdm(total=len(tools) * panel, unit="review", desc="panel") as bar:
        for tool in tools:
            bar.set_postfix_str(tool.slug)
            try:
                run = review_tool(
                    tool=tool, model=model, force=force, samples=samples, on_review=lambda *_: bar.update()
                )
            except ReviewerError as exc:  # e.g. a run of this tool is in progress elsewhere
                failed += 1
                bar.write(f"{tool.slug}: {exc}")
                continue
            if run.status == "failed":
                failed += 1
                bar.write(f"{tool.slug}: failed: {run.error}")
    return failed
