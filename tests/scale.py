"""A reviewed catalog of any size, built in seconds: what tests/test_scale.py and bench/render.py measure.

The offline panel reviews about a hundred tools a second, so 10,000 tools reviewed for real would
take minutes. Instead the bundled catalog is reviewed for real, and each added tool copies one
bundled tool's catalog entry and facts (spread over every category) with a finished panel run
and one review per persona copied from that tool's current reviews: the rows the offline panel
stores, in the same shape, the verdict recomputed by nothing (it is the source's, which the same
facts earn). Everything is written with bulk inserts: about three queries per thousand rows.
"""

import hashlib
from datetime import timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from shiporskip.catalog.loading import load_bundled
from shiporskip.catalog.models import Tool
from shiporskip.panel.models import PanelRun, Review
from shiporskip.panel.personas import load_personas
from shiporskip.panel.running import review_tool

BATCH = 500
# What a copied review keeps of its source (running.copy_review's list, less the call key
# and the raw reply: no page shows it, and it would double the rows' size).
REVIEW_FIELDS = ["persona_id", "score", "verdict", "criteria", "sections", "model",
                 "prompt_version", "persona_version", "tokens_in", "tokens_out", "latency_ms",
                 "cost_usd", "repairs", "retries", "threshold", "score_low",
                 "score_high", "samples", "coverage", "unknown"]
TOOL_FIELDS = ["vendor", "category_id", "best_for", "description", "pricing", "entry_price",
               "license", "website", "facts"]


def bundled_reviewed() -> None:
    """The bundled personas and catalog, every tool reviewed by the offline panel."""
    load_personas()
    load_bundled()
    for tool in Tool.objects.filter(current_run__isnull=True).select_related("category"):
        review_tool(tool=tool, model="offline")


def grow_reviewed(total: int) -> int:
    """Add reviewed copies of the reviewed tools until the catalog holds `total`; the count added."""
    sources = list(Tool.objects.reviewed().select_related("current_run").order_by("category_id", "pk"))
    if not sources:
        raise ValueError("grow_reviewed() copies reviewed tools: review some first")
    need = total - Tool.objects.count()
    if need <= 0:
        return 0
    reviews: dict[int, list[Review]] = {}
    for review in Review.objects.filter(run_id__in=[t.current_run_id for t in sources]):
        reviews.setdefault(review.run_id, []).append(review)
    start = Tool.objects.count()
    copies = [(start + i, sources[i % len(sources)]) for i in range(need)]
    tools = Tool.objects.bulk_create(
        [Tool(name=f"{src.name} copy {n}", slug=f"{src.slug}-copy-{n}",
              **{f: getattr(src, f) for f in TOOL_FIELDS}) for n, src in copies], batch_size=BATCH)
    # Older than the bundled tools' verdicts, one second apart: "latest" has one stable order.
    now = timezone.now()
    runs = PanelRun.objects.bulk_create(
        [_run(tool, src, now - timedelta(seconds=n)) for tool, (n, src) in zip(tools, copies, strict=True)],
        batch_size=BATCH)
    Review.objects.bulk_create(
        (_review(review, run) for run, (_, src) in zip(runs, copies, strict=True)
         for review in reviews[src.current_run_id]), batch_size=BATCH)
    latest = PanelRun.objects.filter(tool=OuterRef("pk"), status="done").order_by("-finished_at", "-pk")
    Tool.objects.filter(current_run__isnull=True).update(current_run=Subquery(latest.values("pk")[:1]))
    return need


def _run(tool: Tool, src: Tool, finished_at) -> PanelRun:
    run = src.current_run
    return PanelRun(tool=tool, model=run.model, status=PanelRun.Status.DONE, samples=run.samples,
                    personas_total=run.personas_total, personas_done=run.personas_done,
                    progress=run.progress, started_at=finished_at, heartbeat_at=finished_at,
                    finished_at=finished_at, facts=run.facts)


def _review(source: Review, run: PanelRun) -> Review:
    key = hashlib.sha256(f"{source.call_key}:{run.tool_id}".encode()).hexdigest()
    return Review(run=run, tool_id=run.tool_id, call_key=key,
                  **{f: getattr(source, f) for f in REVIEW_FIELDS})
