"""`shiporskip runs`: recent panel runs with their tokens, latency and cost."""

from shiporskip.cli.base import positive_int

HEADER = (
    f"{'run':>5}  {'tool':<24} {'model':<28} {'status':<7} {'reviews':>7} "
    f"{'tok in':>8} {'tok out':>8} {'slowest':>8} {'cost $':>9}  note"
)


def add_parser(sub) -> None:
    runs = sub.add_parser("runs", help="list recent panel runs with tokens, latency and cost")
    runs.add_argument("--limit", type=positive_int, default=20, help="how many (default 20)")
    runs.add_argument("--tool", metavar="SLUG", help="only this tool's runs")


def cmd_runs(args) -> int:
    return print_runs(limit=args.limit, tool=args.tool)


def print_runs(*, limit: int, tool: str | None) -> int:
    from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Sum
    from django.db.models.functions import Coalesce

    from shiporskip.panel.models import PanelRun, ReviewAttempt

    runs = PanelRun.objects.select_related("tool").annotate(
        n_reviews=Count("reviews", distinct=True),
        # Reused reviews were paid for by the run that made them.
        tok_in=Sum("reviews__tokens_in", filter=Q(reviews__reused_from__isnull=True)),
        tok_out=Sum("reviews__tokens_out", filter=Q(reviews__reused_from__isnull=True)),
        slowest=Max("reviews__latency_ms", filter=Q(reviews__reused_from__isnull=True)),
        cost=Sum("reviews__cost_usd", filter=Q(reviews__reused_from__isnull=True)),
        # A subquery, not a second join: joining attempts would multiply the sums above.
        n_failed=Coalesce(
            Subquery(
                ReviewAttempt.objects.filter(run=OuterRef("pk"))
                .values("run")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
    )
    if tool:
        runs = runs.filter(tool__slug=tool)
    print(HEADER)
    for run in runs[:limit]:
        note = (
            run.error[:60] if run.error else (f"{run.n_failed} reply(ies) sent back" if run.n_failed else "")
        )
        print(
            f"{run.pk:>5}  {run.tool.slug[:24]:<24} {run.model[:28]:<28} {run.status:<7} "
            f"{run.n_reviews:>7} {run.tok_in or 0:>8} {run.tok_out or 0:>8} "
            f"{(run.slowest or 0) / 1000:>7.1f}s {float(run.cost or 0):>9.5f}  {note}"
        )
    return 0
