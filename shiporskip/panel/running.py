"""Running a panel: one review per active persona, stored together or not at all."""

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from shiporskip.catalog.facts import ToolFacts
from shiporskip.catalog.history import DATE_KEYS
from shiporskip.catalog.models import Tool
from shiporskip.panel import families, heartbeat, sampling
from shiporskip.panel import verdict as rule
from shiporskip.panel.backends import get_reviewer
from shiporskip.panel.backends.base import (
    ErrorKind,
    ReviewerError,
    ReviewRequest,
    ReviewResult,
    Rival,
    ToolSnapshot,
)
from shiporskip.panel.backends.offline_scores import score_criterion
from shiporskip.panel.history import record_event
from shiporskip.panel.models import PanelRun, Persona, Review, ReviewAttempt
from shiporskip.panel.prompts import build_prompt, prompt_version, tool_data
from shiporskip.panel.standing import Market

OnReview = Callable[[Persona, ReviewResult | None], None]  # None: a reused review


_markets: dict[tuple, dict[int, Market]] = {}


def market_of(category_id: int) -> Market:
    """The category's and the catalog's figures, parsed once per catalog state, not once per review."""
    state = Tool.objects.aggregate(n=Count("pk"), last=Max("updated_at"))
    key = (state["n"], state["last"])
    markets = _markets.get(key)
    if markets is None:
        parsed = [
            (cat, ToolFacts.model_validate(f)) for cat, f in Tool.objects.values_list("category_id", "facts")
        ]
        everything = [f for _, f in parsed]
        markets = {
            cat: Market.of([f for c, f in parsed if c == cat], everything) for cat in {c for c, _ in parsed}
        }
        _markets.clear()  # one catalog state at a time: a review --all reuses it, an edit drops it
        _markets[key] = markets  # worker threads may race here: each keeps its own local copy
    return markets.get(category_id) or Market()


def snapshot(tool: Tool) -> ToolSnapshot:
    """Freeze what a reviewer may see of a tool: its facts, nearest rivals and market."""
    market = market_of(tool.category_id)
    rivals = tuple(Rival(r.name, r.vendor, r.parsed_facts) for r in tool.rivals())
    return ToolSnapshot(
        name=tool.name,
        vendor=tool.vendor,
        category=tool.category.name,
        best_for=tool.best_for,
        description=tool.description,
        pricing=tool.pricing,
        entry_price=tool.entry_price,
        license=tool.license,
        facts=ToolFacts.model_validate(tool.facts),
        rivals=rivals,
        market=market,
    )


def build_request(persona: Persona, tool: ToolSnapshot) -> ReviewRequest:
    """One persona's request: the prompt, and the criteria whose evidence is unknown."""
    spec = persona.spec()
    unknown = tuple(c.key for c in spec.criteria if score_criterion(c.key, tool) is None)
    return ReviewRequest(
        persona=spec,
        tool=tool,
        prompt=build_prompt(spec, tool, unknown),
        prompt_version=prompt_version(spec),
        unknown=unknown,
    )


def start_run(*, tool: Tool, model: str | None = None, force: bool = False, samples: int = 1) -> PanelRun:
    """Create a run to execute here and now (the CLI), claimed from the start.

    A run the worker has not picked up yet is taken over; one already running is left alone.
    """
    model = model or settings.SHIPORSKIP_MODEL
    sampling.check_samples(samples)
    now = timezone.now()
    try:
        with transaction.atomic():
            return PanelRun.objects.create(
                tool=tool,
                model=model,
                force=force,
                samples=samples,
                started_at=now,
                heartbeat_at=now,
                status=PanelRun.Status.RUNNING,
            )
    except IntegrityError:
        pass
    queued = PanelRun.objects.filter(tool=tool, status=PanelRun.Status.QUEUED)
    if queued.update(
        status=PanelRun.Status.RUNNING,
        model=model,
        force=force,
        samples=samples,
        started_at=now,
        heartbeat_at=now,
    ):
        return PanelRun.objects.get(tool=tool, status=PanelRun.Status.RUNNING)
    running = PanelRun.objects.filter(tool=tool, status=PanelRun.Status.RUNNING).first()
    raise ReviewerError(
        f"{tool.slug} already has panel run #{running.pk if running else '?'} "
        "in progress; wait for it, or see `shiporskip runs`",
        kind=ErrorKind.TAKEN_OVER,
    )


def claim(run: PanelRun) -> bool:
    """Move a queued run to running; False when another worker got there first."""
    now = timezone.now()
    updated = PanelRun.objects.filter(pk=run.pk, status=PanelRun.Status.QUEUED).update(
        status=PanelRun.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    return updated == 1


def undated(node):
    """The data without the dates it was checked on: re-dating is not a new question."""
    if isinstance(node, dict):
        return {k: undated(v) for k, v in node.items() if k not in DATE_KEYS}
    if isinstance(node, list):
        return [undated(v) for v in node]
    return node


def call_key(request: ReviewRequest, model: str, samples: int = 1, *, ranked: bool = False) -> str:
    """Identify a call by everything that shapes its answer, to reuse a finished one.

    A backend that ranks the tool against its market (`ranked`) gives another answer when any
    tool's figures move, so the market is part of its key.
    """
    llm = settings.SHIPORSKIP_LLM
    parts = [
        undated(json.loads(tool_data(request.tool))),
        request.persona.data(),
        model,
        request.prompt_version,
        llm["temperature"],
        llm["max_tokens"],
        settings.SHIPORSKIP_STRUCTURED_OUTPUT,
    ]
    if ranked:
        parts.append({"market": request.tool.market.digest})
    if samples != 1:
        parts.append({"samples": samples})
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def reusable(keys: dict[str, str]) -> dict[str, Review]:
    """Stored reviews from finished runs with the same call key, by persona key."""
    found = Review.objects.filter(call_key__in=keys.values(), run__status=PanelRun.Status.DONE).order_by(
        "-created_at"
    )
    by_key: dict[str, Review] = {}
    for review in found:
        by_key.setdefault(review.call_key, review)
    return {persona: by_key[key] for persona, key in keys.items() if key in by_key}


def execute(run: PanelRun, *, on_review: OnReview | None = None) -> PanelRun:
    """Ask every active persona through the run's backend, then store all reviews at once."""
    with heartbeat.Heartbeat(run.pk):
        try:
            return _execute(run, on_review)
        except (heartbeat.Stopped, KeyboardInterrupt) as exc:  # SIGTERM, Ctrl-C: say so, then stop
            _fail_on_stop(run, heartbeat.reason(exc))
            raise


def _execute(run: PanelRun, on_review: OnReview | None) -> PanelRun:
    personas = list(Persona.objects.active())
    try:
        reviewer = get_reviewer(run.model)
        if not personas:
            raise ReviewerError(
                "no active personas: run `shiporskip personas load`", kind=ErrorKind.NOT_CONFIGURED
            )
        self_review = families.check_judge(run.model, run.tool.vendor)
        tool = snapshot(run.tool)
        requests = {p.key: build_request(p, tool) for p in personas}
        # New scoring rules make a new call: a stored review is reused only under the same rules.
        keys = {
            p.key: call_key(
                requests[p.key],
                reviewer.name + reviewer.rules_version,
                run.samples,
                ranked=bool(reviewer.rules_version),
            )
            for p in personas
        }
        reused = {} if run.force else reusable(keys)
        progress = Progress(run, personas, reused, on_review)
        results, errors = _ask_all(
            reviewer, [p for p in personas if p.key not in reused], requests, progress, run.samples
        )
        _record_attempts(run, personas, results, errors)
        if errors:  # the first error names the kind: it is the one that stopped the others
            return _fail(
                run,
                "; ".join(dict.fromkeys(str(e) for _, e in errors)),  # no repeats
                errors[0][1].kind,
            )
        _store(run, personas, results, reused, keys, requests, facts=run.tool.facts, self_review=self_review)
    except ReviewerError as exc:
        return _fail(run, str(exc), exc.kind)
    except Exception as exc:  # a bug or a database error must not leave the run "running"
        _fail(run, f"unexpected {type(exc).__name__}: {exc}")
        raise
    run.refresh_from_db()
    return run


class Progress:
    """Keeps the run's per-persona progress in the database as calls finish."""

    def __init__(self, run, personas, reused, on_review):
        self.run, self.on_review = run, on_review
        self.states = {p.key: "reused" if p.key in reused else "asking" for p in personas}
        self._save()
        for persona in personas:
            if persona.key in reused and on_review:
                on_review(persona, None)

    def finished(self, persona: Persona, state: str, result=None) -> None:
        self.states[persona.key] = state
        self._save()
        if self.on_review:
            self.on_review(persona, result)

    def _save(self) -> None:
        done = sum(state in {"done", "reused"} for state in self.states.values())
        PanelRun.objects.filter(pk=self.run.pk).update(
            personas_total=len(self.states), personas_done=done, progress=self.states
        )


def _ask_all(reviewer, personas, requests, progress, samples=1):
    """Ask all personas at once within the backend's limit; stop early on a hopeless error."""
    results: dict[str, ReviewResult] = {}
    errors: list[tuple[Persona, ReviewerError]] = []
    if not personas:
        return results, errors
    workers = max(1, min(len(personas), reviewer.max_concurrency))
    pool = ThreadPoolExecutor(max_workers=workers)
    futures = {pool.submit(sampling.ask, reviewer, requests[p.key], samples): p for p in personas}
    wait = True
    try:
        for future in as_completed(futures):
            persona = futures[future]
            try:
                results[persona.key] = future.result()
            except ReviewerError as exc:
                errors.append((persona, exc))
                progress.finished(persona, "failed")
                if not exc.retryable and not exc.attempts:
                    break  # a bad key or an unknown model fails every call: stop now
                continue
            progress.finished(persona, "done", results[persona.key])
    except (heartbeat.Stopped, KeyboardInterrupt):
        wait = False  # told to stop: the calls in flight are abandoned, not waited for
        raise
    finally:
        pool.shutdown(wait=wait, cancel_futures=True)
    return results, errors


def _record_attempts(run, personas, results, errors) -> None:
    by_key = {p.key: p for p in personas}
    failed = [(by_key[k], a) for k, r in results.items() for a in r.attempts]
    failed += [(p, a) for p, e in errors for a in e.attempts]
    ReviewAttempt.objects.bulk_create(
        [
            ReviewAttempt(
                run=run,
                persona=persona,
                raw_reply=a.raw,
                error=a.error,
                tokens_in=a.tokens_in,
                tokens_out=a.tokens_out,
                latency_ms=a.latency_ms,
            )
            for persona, a in failed
        ]
    )


def doubt_fields(persona: Persona, result: ReviewResult, request_unknown, score: int | None) -> dict:
    """The review's bar, range and coverage: how sure it is, from the verdict rule."""
    unknown = set(result.unknown) | set(request_unknown)
    criteria = persona.spec().criteria
    subscores = {c.key: None if c.key in unknown else result.reply.criteria.get(c.key) for c in criteria}
    if score is None:
        low, high = result.score_range or (None, None)
    else:  # the range always holds the stored score
        low, high = result.score_range or (score, score)
        low, high = min(low, score), max(high, score)
    return {
        "threshold": persona.ship_threshold,
        "score_low": low,
        "score_high": high,
        "coverage": rule.known_weight(criteria, subscores),
        "samples": result.samples,
        "unknown": [c.key for c in criteria if c.key in unknown],
    }


def held_to_the_rule(persona: Persona, result: ReviewResult, criteria: dict) -> int | None:
    """The stored score: the weighted mean of the known criteria, whatever the backend said.

    A mean of N samples keeps its own mean (recomputing it from mean criteria would only add
    rounding); a persona with no known criterion abstains (None).
    """
    if result.samples > 1:
        return result.reply.score
    return rule.weighted_score(persona.spec().criteria, criteria)


def _store(run, personas, results, reused, keys, requests, *, facts: dict, self_review: bool = False) -> None:
    reviews = []
    for persona in personas:
        if persona.key in reused:
            reviews.append(copy_review(reused[persona.key], run, self_review))
            continue
        result = results[persona.key]
        unknown = requests[persona.key].unknown
        criteria = {k: v for k, v in result.reply.criteria.items() if k not in unknown}
        score = held_to_the_rule(persona, result, criteria)
        reviews.append(
            Review(
                run=run,
                tool_id=run.tool_id,
                persona=persona,
                score=score,
                **doubt_fields(persona, result, unknown, score),
                verdict=persona.verdict_for(score),
                criteria=criteria,
                sections=result.reply.sections,
                model=result.model,
                prompt_version=requests[persona.key].prompt_version,
                persona_version=persona.version,
                tokens_in=result.tokens_in,
                tokens_out=result.tokens_out,
                latency_ms=result.latency_ms,
                cost_usd=result.cost_usd,
                raw_reply=result.raw,
                repairs=list(result.repairs),
                retries=result.retries,
                call_key=keys[persona.key],
                self_review=self_review,
            )
        )
    with transaction.atomic():
        # Only the process that still owns the run may finish it (no double store).
        owned = PanelRun.objects.filter(pk=run.pk, status=PanelRun.Status.RUNNING).update(
            status=PanelRun.Status.DONE, finished_at=timezone.now(), error="", facts=facts
        )
        if not owned:
            raise ReviewerError(
                f"run #{run.pk} was taken over or ended elsewhere; its reviews were not stored twice",
                kind=ErrorKind.TAKEN_OVER,
            )
        Review.objects.bulk_create(reviews)
        record_event(run.pk)  # the feeds' news: a first or changed tally
        Tool.objects.filter(pk=run.tool_id).update(current_run=run)


# What a reused review keeps of its original (tests/scale.py copies the same).
COPIED_REVIEW_FIELDS = [
    "persona_id",
    "score",
    "verdict",
    "criteria",
    "sections",
    "model",
    "prompt_version",
    "persona_version",
    "tokens_in",
    "tokens_out",
    "latency_ms",
    "cost_usd",
    "raw_reply",
    "repairs",
    "retries",
    "call_key",
    "threshold",
    "score_low",
    "score_high",
    "samples",
    "coverage",
    "unknown",
]


def copy_review(original: Review, run: PanelRun, self_review: bool = False) -> Review:
    return Review(
        run=run,
        tool_id=run.tool_id,
        reused_from=original,
        self_review=self_review,
        **{f: getattr(original, f) for f in COPIED_REVIEW_FIELDS},
    )


def _fail(run: PanelRun, reason: str, kind: ErrorKind | None = None) -> PanelRun:
    end_failed(run.pk, reason, kind)
    run.refresh_from_db()
    return run


def end_failed(run_id: int, reason: str, kind: ErrorKind | None = None) -> bool:
    """Mark an open run failed; False if it had ended already (done, or failed elsewhere)."""
    return bool(
        PanelRun.objects.filter(pk=run_id, status__in=["queued", "running"]).update(
            status=PanelRun.Status.FAILED, finished_at=timezone.now(), error=reason, error_kind=kind or ""
        )
    )


def _fail_on_stop(run: PanelRun, reason: str) -> None:
    try:
        _fail(run, reason, ErrorKind.CUT_OFF)
    except DatabaseError:  # the signal may have cut a query off mid-way: use a fresh connection
        connection.close()
        _fail(run, reason, ErrorKind.CUT_OFF)


def review_tool(
    *,
    tool: Tool,
    model: str | None = None,
    force: bool = False,
    samples: int = 1,
    on_review: OnReview | None = None,
) -> PanelRun:
    """Run the panel on `tool` in this process (the CLI path)."""
    return execute(start_run(tool=tool, model=model, force=force, samples=samples), on_review=on_review)
