"""Tools and categories: the catalog every page and review is built from."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Avg, Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.text import slugify

from shiporskip import control_chars
from shiporskip.catalog.facts import FactsError, ToolFacts, validate_facts
from shiporskip.catalog.tallies import CommunityTally, PanelTally, disagreement


class NotAnnotated(RuntimeError):
    """A tally read from a queryset that did not annotate it.

    Not an AttributeError on purpose: a template swallows those and would print nothing.
    """


# The rivals a panel run weighs a tool against (panel/running.py asks for this many; the
# alternatives page marks them).
PANEL_RIVALS = 3
# The compare picker's <select> lists at most this many tools (see picker_choices).
PICKER_TOOLS = 300


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:category", args=[self.slug])

    def clean(self):
        # The admin's way in; files go through catalog/loading.py, with the same rule.
        if errors := control_chars.model_errors(self, {
                "name": "", "slug": "", "description": control_chars.MULTILINE + "\r"}):
            raise ValidationError(errors)


class ToolQuerySet(models.QuerySet):
    def with_score(self):
        """Annotate `panel_score`: the mean of the current panel's scores (abstentions have none
        and are not averaged); None for a tool never reviewed."""
        return self.annotate(panel_score=Avg("current_run__reviews__score"))

    def picker_choices(self):
        """(slug, name) of the tools by name, at most PICKER_TOOLS: the compare picker's options.

        Every tool when the catalog is small; at 10,000 a page would carry 20,000 options, so
        the list stops there and the picker's search box (which sets the select) finds the rest.
        """
        return self.order_by("name").values_list("slug", "name")[:PICKER_TOOLS]

    def with_panel(self):
        """Annotate each tool with its current panel's ship and skip counts (one query)."""
        reviews = "current_run__reviews"
        return self.select_related("category", "current_run").annotate(
            ship_count=Count(reviews, filter=Q(**{f"{reviews}__verdict": "ship"})),
            skip_count=Count(reviews, filter=Q(**{f"{reviews}__verdict": "skip"})),
        )

    def with_community(self):
        """Annotate each tool with its community ship and skip votes (subqueries, not joins).

        Counted through the votes' reverse relation (`votes`), so the catalog names no model of
        the community app.
        """
        def votes(verdict):
            counted = (self.model.objects.filter(pk=OuterRef("pk"), votes__verdict=verdict).order_by()
                       .values("pk").annotate(n=Count("votes")).values("n"))
            return Coalesce(Subquery(counted), 0)

        return self.annotate(vote_ship=votes("ship"), vote_skip=votes("skip"))

    def with_tallies(self):
        """Both tallies every page shows: the panel's and the community's."""
        return self.with_panel().with_community()

    def reviewed(self):
        return self.filter(current_run__isnull=False)

    def latest_verdicts(self):
        return self.reviewed().order_by("-current_run__finished_at", "name")


class Tool(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    vendor = models.CharField(max_length=120, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tools")
    best_for = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    pricing = models.CharField(max_length=200, blank=True)
    entry_price = models.CharField(max_length=60, blank=True)
    license = models.CharField(max_length=120, blank=True)
    website = models.URLField(blank=True)
    facts = models.JSONField()
    # The panel run whose reviews the site shows; set when a run completes.
    current_run = models.ForeignKey(
        "panel.PanelRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ToolQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # A category's tools in slug order: the sitemap's pairs (tool, then each later
            # same-category tool) come off this index with no sort of the millions of pairs.
            models.Index(fields=["category", "slug"], name="tool_category_slug"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("catalog:tool", args=[self.slug])

    def clean(self):
        # The admin's way in; files go through catalog/loading.py, with the same rule: one
        # line everywhere but the description (a text area: the browser sends CRLF).
        if errors := control_chars.model_errors(self, {
                **dict.fromkeys(["name", "slug", "vendor", "best_for", "pricing", "entry_price",
                                 "license", "website"], ""),
                "description": control_chars.MULTILINE + "\r"}):
            raise ValidationError(errors)
        if not slugify(self.name):
            raise ValidationError({"name": "A name needs at least one letter or digit."})
        try:
            self.facts = validate_facts(self.facts).model_dump(mode="json")
        except FactsError as exc:
            raise ValidationError({"facts": str(exc)}) from None

    @property
    def parsed_facts(self) -> ToolFacts:
        return ToolFacts.model_validate(self.facts)

    def rivals(self, n: int = PANEL_RIVALS) -> list["Tool"]:
        """Its n nearest same-category tools by facts (catalog/rivals.py), closest first."""
        from shiporskip.catalog.rivals import Candidate, nearest

        others = {t.slug: t for t in Tool.objects.filter(category_id=self.category_id)
                  .exclude(pk=self.pk).select_related("category")}
        near = nearest(self.parsed_facts, [Candidate(t.slug, t.name, t.parsed_facts)
                                           for t in others.values()], n)
        return [others[c.slug] for c in near]

    @property
    def initial(self) -> str:
        return self.name[:1].upper()

    def annotated(self, *names: str, by: str) -> list[int]:
        """The values the queryset method `by` annotated; NotAnnotated if it was not called.

        A tally read from a plain queryset would say 0/0, a wrong answer that looks right.
        """
        if missing := [n for n in names if n not in self.__dict__]:
            raise NotAnnotated(f"Tool {self.slug!r} has no {', '.join(missing)}: read it from "
                               f"Tool.objects.{by}() (or with_tallies()).")
        return [self.__dict__[n] for n in names]

    @property
    def panel(self):
        """The panel tally for this tool; needs `with_panel()` on its queryset."""
        ship, skip = self.annotated("ship_count", "skip_count", by="with_panel")
        return PanelTally(ship=ship, skip=skip)

    @property
    def community(self):
        """The community tally for this tool; needs `with_community()` on its queryset."""
        ship, skip = self.annotated("vote_ship", "vote_skip", by="with_community")
        return CommunityTally(ship=ship, skip=skip)

    @property
    def disagreement(self) -> str | None:
        return disagreement(self.panel, self.community)


class FactsChange(models.Model):
    """One change to a tool's facts: the record before and after, and the fields that moved."""

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="facts_changes")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    by = models.CharField(max_length=200, help_text="What made the change: a file, a command, a user.")
    previous = models.JSONField(null=True, blank=True, help_text="The facts before (empty: new tool).")
    facts = models.JSONField(help_text="The facts after.")
    changes = models.JSONField(default=list, help_text="[{field, before, after}]")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.tool}: {len(self.changes)} field(s) by {self.by}"
