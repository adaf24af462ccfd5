"""Running a panel: one review per active persona, stored together or not at all."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from shiporskip.catalog.facts import ToolFacts
from shiporskip.catalog.models import Tool
from shiporskip.panel.backends import get_reviewer
from shiporskip.panel.backends.base import ReviewerError, ReviewRequest, ReviewResult, ToolSnapshot
from shiporskip.panel.models import PanelRun, Persona, Review
from shiporskip.panel.prompts import build_prompt, prompt_version

OnReview = Callable[[Persona, ReviewResult], None]


def snapshot(tool: Tool) -> ToolSnapshot:
    """Freeze what a reviewer may see of a tool, peers included (same category, by name)."""
    peers = (Tool.objects.filter(category_id=tool.category_id).exclude(pk=tool.pk)
             .order_by("name").values_list("name", flat=True)[:5])
    return ToolSnapshot(
        name=tool.name, vendor=tool.vendor, category=tool.category.name,
        best_for=tool.best_for, description=tool.description, pricing=tool.pricing,
        entry_price=tool.entry_price, license=tool.license,
        facts=ToolFacts.model_validate(tool.facts), peers=tuple(peers),
    )


def build_request(persona: Persona, tool: ToolSnapshot) -> ReviewRequest:
    spec = persona.spec()
    return ReviewRequest(persona=spec, tool=tool, prompt=build_prompt(spec, tool),
                         prompt_version=prompt_version(spec))


def queue_panel_run(*, tool: Tool, model: str | None = None) -> PanelRun:
    """Create a queued run for the worker, or return the tool's open one (no double queue)."""
    from shiporskip.panel.tasks import run_panel_task

    model = model or settings.SHIPORSKIP_MODEL
    get_reviewer(model)  # fail now, with the backend's message, not later in the worker
    try:
        with transaction.atomic():
            run = PanelRun.objects.create(tool=tool, model=model)
    except IntegrityError:
        return PanelRun.objects.get(tool=tool, status__in=["queued", "running"])
    transaction.on_commit(lambda: run_panel_task(run.pk))
    return run


def start_run(*, tool: Tool, model: str | None = None) -> PanelRun:
    """Create a run to execute here and now (the CLI), claimed from the start."""
    return PanelRun.objects.create(tool=tool, model=model or settings.SHIPORSKIP_MODEL,
                                   status=PanelRun.Status.RUNNING, started_at=timezone.now())


def claim(run: PanelRun) -> bool:
    """Move a queued run to running; False when another worker got there first."""
    updated = PanelRun.objects.filter(pk=run.pk, status=PanelRun.Status.QUEUED).update(
        status=PanelRun.Status.RUNNING, started_at=timezone.now())
    return updated == 1


def execute(run: PanelRun, *, on_review: OnReview | None = None) -> PanelRun:
    """Ask every active persona through the run's backend, then store all reviews at once."""
    personas = list(Persona.objects.active())
    try:
        reviewer = get_reviewer(run.model)
        if not personas:
            raise ReviewerError("no active personas: run `shiporskip personas load`")
        tool = snapshot(run.tool)
        PanelRun.objects.filter(pk=run.pk).update(personas_total=len(personas))
        results = _ask_all(reviewer, personas, tool, run, on_review)
    except ReviewerError as exc:
        return _fail(run, str(exc))
    except Exception as exc:  # a bug must not leave the run "running" forever
        _fail(run, f"unexpected {type(exc).__name__}: {exc}")
        raise
    _store(run, personas, results, [build_request(p, tool).prompt_version for p in personas])
    run.refresh_from_db()
    return run


def _ask_all(reviewer, personas, tool, run, on_review) -> list[ReviewResult]:
    def ask(persona: Persona) -> ReviewResult:
        return reviewer.review(build_request(persona, tool))

    workers = max(1, min(len(personas), reviewer.max_concurrency))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(ask, persona) for persona in personas]
        results = []
        for persona, future in zip(personas, futures, strict=True):
            results.append(future.result())
            run.personas_done = len(results)
            PanelRun.objects.filter(pk=run.pk).update(personas_done=len(results))
            if on_review:
                on_review(persona, results[-1])
    return results


def _store(run, personas, results, versions) -> None:
    with transaction.atomic():
        Review.objects.bulk_create([
            Review(run=run, tool_id=run.tool_id, persona=persona,
                   score=result.reply.score, verdict=persona.verdict_for(result.reply.score),
                   criteria=result.reply.criteria, sections=result.reply.sections,
                   model=result.model, prompt_version=version,
                   persona_version=persona.version, tokens_in=result.tokens_in,
                   tokens_out=result.tokens_out, latency_ms=result.latency_ms,
                   cost_usd=result.cost_usd, raw_reply=result.raw)
            for persona, result, version in zip(personas, results, versions, strict=True)
        ])
        PanelRun.objects.filter(pk=run.pk).update(
            status=PanelRun.Status.DONE, finished_at=timezone.now(), error="")
        Tool.objects.filter(pk=run.tool_id).update(current_run=run)


def _fail(run: PanelRun, reason: str) -> PanelRun:
    PanelRun.objects.filter(pk=run.pk).update(
        status=PanelRun.Status.FAILED, finished_at=timezone.now(), error=reason)
    run.refresh_from_db()
    return run


def review_tool(*, tool: Tool, model: str | None = None,
                on_review: OnReview | None = None) -> PanelRun:
    """Run the panel on `tool` in this process (the CLI path)."""
    return execute(start_run(tool=tool, model=model), on_review=on_review)
