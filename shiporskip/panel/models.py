"""Personas, panel runs and reviews: who judged a tool, how, and what they said."""

import hashlib
import json

from django.db import models
from django.db.models import F, Q

from shiporskip.links import slug_url
from shiporskip.panel.backends.base import ErrorKind
from shiporskip.panel.specs import FIELDS, PersonaSpec, validate_persona


def model_label(name: str) -> str:
    """The model as shown to readers: a local GGUF by its file name, not its full path."""
    provider, _, model = name.partition("/")
    if provider == "llamacpp" and model:
        return f"llamacpp/{model.rsplit('/', 1)[-1]}"
    return name


class PersonaQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True).order_by("order", "key")


class Persona(models.Model):
    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60)
    lens = models.CharField(max_length=120)
    motto = models.CharField(max_length=200)
    style_brief = models.TextField()
    excites = models.JSONField(default=list)
    tires = models.JSONField(default=list)
    # [{key, title, question}]: the fixed structure each review by this persona follows.
    sections = models.JSONField(default=list)
    # The section quoted where space is short (scorecards, persona pages); blank = the last.
    summary_section = models.CharField(max_length=40, blank=True)
    ship_threshold = models.PositiveSmallIntegerField()
    # [{key, label, weight}]: sub-scores the overall score is the weighted mean of.
    criteria = models.JSONField(default=list)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    objects = PersonaQuerySet.as_manager()

    class Meta:
        ordering = ["order", "key"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_url("panel:persona", self.key)

    @property
    def summary_key(self) -> str:
        """The section quoted where space is short: `summary_section`, or the last one."""
        return self.summary_section or (self.sections[-1]["key"] if self.sections else "")

    # No clean() here: the admin's form and the file's loader both check a persona with
    # panel/specs.py's validate_persona(), so the admin refuses what the file refuses.

    def data(self) -> dict:
        """The persona's data as stored, in one plain dict: what its version is a digest of."""
        return {f: getattr(self, f) for f in FIELDS}

    def spec(self) -> PersonaSpec:
        """The typed persona that prompts, replies and backends read (checked on the way in)."""
        return validate_persona({**self.data(), "active": self.active})

    @property
    def version(self) -> str:
        blob = json.dumps(self.data(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def verdict_for(self, score: int) -> str:
        from shiporskip.panel.verdict import verdict_for

        return verdict_for(score, self.ship_threshold)


# Why a run failed, by kind, in words fit for a public page: no URLs, paths or provider
# messages. A run stored before kinds existed, or failed by a bug, has none.
PUBLIC_REASONS: dict[str, str] = {
    ErrorKind.AUTH: "the model server refused the API key",
    ErrorKind.UNREACHABLE: "the model server could not be reached",
    ErrorKind.BAD_MODEL: "the model server does not serve this model or refused the request",
    ErrorKind.RATE_LIMIT: "the model server kept rate-limiting the panel",
    ErrorKind.TIMEOUT: "the model server timed out",
    ErrorKind.SERVER_ERROR: "the model server kept failing",
    ErrorKind.INVALID_REPLY: "the model's replies were never valid reviews",
    ErrorKind.NOT_CONFIGURED: "the reviewer backend is not configured",
    ErrorKind.SELF_REVIEW: "the model's maker also makes this tool, and self-review is off",
    ErrorKind.TAKEN_OVER: "another run took over",
    ErrorKind.CUT_OFF: "the run was cut off before it finished",
}
UNKNOWN_REASON = "an internal error"


class PanelRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    tool = models.ForeignKey("catalog.Tool", on_delete=models.CASCADE, related_name="runs")
    model = models.CharField(max_length=200, help_text="Reviewer backend as provider/model.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    # What kind of failure (auth, unreachable, bad_model, rate_limit, invalid_reply, ...): the
    # public reason is chosen by kind, never by matching the error's wording.
    error_kind = models.CharField(max_length=20, blank=True)
    samples = models.PositiveSmallIntegerField(default=1, help_text="Model calls per persona.")
    personas_total = models.PositiveSmallIntegerField(default=0)
    personas_done = models.PositiveSmallIntegerField(default=0)
    # {persona key: "asking" | "done" | "reused" | "failed"}, updated as each call ends.
    progress = models.JSONField(default=dict, blank=True)
    force = models.BooleanField(
        default=False, help_text="Call the model even if an identical call has a stored review."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written as the run makes progress: a running run whose heartbeat is old was cut off.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The tool's facts as the panel saw them: a re-review shows what changed since the last run.
    facts = models.JSONField(null=True, blank=True)
    # Set when the run finishes (panel/history.py's record_event, in the transaction that
    # stores its reviews), so the feeds read the newest events off an index instead of
    # comparing every run with the one before: whether its panel tally is news (a first
    # verdict or a changed tally), the tool's finished run before it, and that run's tally.
    verdict_event = models.BooleanField(default=False)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    prev_ship = models.PositiveSmallIntegerField(null=True, blank=True)
    prev_skip = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The feeds: the newest verdict events, in order, off the index.
            models.Index(
                fields=["-finished_at", "-id"],
                condition=Q(verdict_event=True),
                name="panelrun_verdict_events",
            ),
        ]
        constraints = [
            # At most one unfinished run per tool, so a double click or a retry queues once.
            models.UniqueConstraint(
                fields=["tool"],
                condition=Q(status__in=["queued", "running"]),
                name="one_open_run_per_tool",
            ),
        ]

    def __str__(self):
        return f"{self.tool} by {self.model} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def model_label(self) -> str:
        return model_label(self.model)

    @property
    def public_reason(self) -> str:
        return PUBLIC_REASONS.get(self.error_kind, UNKNOWN_REASON)

    def progress_list(self) -> list[tuple[str, str]]:
        """(persona key, state) in the order the panel reports them."""
        return list(self.progress.items())


class ReviewQuerySet(models.QuerySet):
    def current(self):
        """Reviews that belong to their tool's current panel run: the ones the site shows."""
        return self.filter(run_id=F("tool__current_run_id"))


class Review(models.Model):
    class Verdict(models.TextChoices):
        SHIP = "ship"
        SKIP = "skip"
        NONE = "none", "no verdict"  # nothing this persona weighs is known: it abstains

    run = models.ForeignKey(PanelRun, on_delete=models.CASCADE, related_name="reviews")
    tool = models.ForeignKey("catalog.Tool", on_delete=models.CASCADE, related_name="reviews")
    persona = models.ForeignKey(Persona, on_delete=models.PROTECT, related_name="reviews")
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty when it abstains.")
    verdict = models.CharField(max_length=4, choices=Verdict.choices)
    criteria = models.JSONField(default=dict)
    sections = models.JSONField(default=dict)
    # How sure the review is: the bar it was held to, the range its score could take
    # (weights and unknowns resampled, or N samples of a model), and how much of the
    # persona's criteria weight rests on known facts.
    threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    score_low = models.PositiveSmallIntegerField(null=True, blank=True)
    score_high = models.PositiveSmallIntegerField(null=True, blank=True)
    samples = models.PositiveSmallIntegerField(default=1)
    coverage = models.FloatField(null=True, blank=True)
    unknown = models.JSONField(default=list, blank=True, help_text="Criteria left out: facts not known.")
    self_review = models.BooleanField(default=False, help_text="The model's maker also makes the tool.")
    # Provenance: how this verdict was made.
    model = models.CharField(max_length=200)
    prompt_version = models.CharField(max_length=40)
    persona_version = models.CharField(max_length=40)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    raw_reply = models.TextField(blank=True)
    repairs = models.JSONField(
        default=list, blank=True, help_text="What parsing fixed, and why earlier replies were sent back."
    )
    retries = models.PositiveSmallIntegerField(default=0, help_text="Transport retries.")
    # Same tool facts, persona version, model, prompt and settings: the same call.
    call_key = models.CharField(max_length=64, db_index=True, blank=True)
    reused_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["persona__order", "persona__key"]
        constraints = [
            models.UniqueConstraint(fields=["run", "persona"], name="one_review_per_persona"),
            models.CheckConstraint(condition=Q(score__lte=100), name="score_at_most_100"),
            models.CheckConstraint(condition=Q(verdict__in=["ship", "skip", "none"]), name="verdict_known"),
            # An abstention has no score, and only an abstention.
            models.CheckConstraint(
                condition=Q(verdict="none", score__isnull=True) | Q(score__isnull=False) & ~Q(verdict="none"),
                name="score_unless_abstaining",
            ),
        ]

    def __str__(self):
        return f"{self.persona} on {self.tool}: {self.score} {self.verdict}"

    @property
    def model_label(self) -> str:
        return model_label(self.model)

    def section_list(self) -> list[dict]:
        """The persona's sections in its order, each with this review's text."""
        return [
            {**section, "text": self.sections.get(section["key"], "")} for section in self.persona.sections
        ]

    @property
    def bar(self) -> int | None:
        """The bar this review was held to; None for a review stored before bars were recorded
        (the persona's bar may have moved since, so it would misstate the margin)."""
        return self.threshold

    @property
    def margin(self) -> int | None:
        return None if self.bar is None or self.score is None else self.score - self.bar

    @property
    def near_bar(self) -> bool:
        from shiporskip.panel.verdict import is_near_bar

        if self.bar is None or self.score is None:
            return False
        return is_near_bar(self.score, self.bar, self.score_low, self.score_high)

    @property
    def provisional(self) -> bool:
        from shiporskip.panel.verdict import is_provisional

        return is_provisional(self.coverage)

    @property
    def spread(self) -> bool:
        return self.score_low is not None and self.score_high is not None and self.score_low < self.score_high

    def unknown_labels(self) -> list[str]:
        labels = {c["key"]: c["label"] for c in self.persona.criteria}
        return [labels.get(key, key) for key in self.unknown]

    @property
    def summary_title(self) -> str:
        key = self.persona.summary_key
        return next((s["title"] for s in self.persona.sections if s["key"] == key), "")

    @property
    def summary(self) -> str:
        """The persona's bottom line: its summary section, or its last one."""
        return self.sections.get(self.persona.summary_key, "")


class ReviewAttempt(models.Model):
    """A reply that failed validation: kept with its raw text, never shown as a review."""

    run = models.ForeignKey(PanelRun, on_delete=models.CASCADE, related_name="attempts")
    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="+")
    raw_reply = models.TextField(blank=True)
    error = models.TextField()
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"failed reply by {self.persona} in run {self.run_id}"


class PersonaTally(models.Model):
    """A persona's current reviews in one category with one verdict, counted: the persona page
    reads its "Verdicts by category" from here. Kept by database triggers
    (panel/tally_triggers.py); read it, never write it. A row can fall back to 0."""

    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("catalog.Category", on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=4)
    reviews = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # The triggers' ON CONFLICT target, and the page's lookup by persona.
            models.UniqueConstraint(fields=["persona", "category", "verdict"], name="one_persona_tally_row"),
        ]

    def __str__(self):
        return f"{self.persona_id} in {self.category_id}: {self.reviews} {self.verdict}"
