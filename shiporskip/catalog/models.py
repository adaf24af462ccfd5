"""Tools and categories: the catalog every page and review is built from."""

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import F
from django.db.models.functions import Cast, Coalesce
from django.utils.text import slugify

from shiporskip import control_chars
from shiporskip.catalog.facts import FactsError, ToolFacts, validate_facts
from shiporskip.catalog.tallies import CommunityTally, PanelTally, disagreement
from shiporskip.links import slug_url


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
        return slug_url("catalog:category", self.slug)

    def clean(self):
        # The admin's way in; files go through catalog/loading.py, with the same rule.
        if errors := control_chars.model_errors(
            self, {"name": "", "slug": "", "description": control_chars.MULTILINE + "\r"}
        ):
            raise ValidationError(errors)


# What a list row never shows: not read, nor decoded, for a page of 50 (catalog.listing.rows).
ROW_UNSHOWN = ["facts", "rival_features", "description", "pricing", "license", "website", "updated_at"]


# What a vote's or a bookmark's answer shows of its tool, by slug (tool_for_write).
FOR_WRITE_FIELDS = ["id", "name", "slug"]
FOR_WRITE_SQL = "SELECT id, name, slug FROM catalog_tool WHERE slug = %s"


class ToolQuerySet(models.QuerySet):
    def with_score(self):
        """Annotate `panel_score`: the mean of the current panel's scores (abstentions have none
        and are not averaged); None for a tool never reviewed. A column read: the database
        keeps it (catalog/tally_triggers.py)."""
        return self.annotate(panel_score=F("panel_mean"))

    def by_slug_for_write(self, slug: str) -> "Tool | None":
        """The tool a vote or a bookmark names, with only its pk, name and slug (what the write's
        answer shows), or None. One plain query: compiling the ORM's `get()` cost a vote ten
        times what running it did, and a vote is the site's most frequent write."""
        with connections[self.db].cursor() as cursor:
            cursor.execute(FOR_WRITE_SQL, [slug])
            return tool_for_write(cursor.fetchone(), self.db)

    def picker_choices(self):
        """(slug, name) of the tools by name, at most PICKER_TOOLS: the compare picker's options.

        Every tool when the catalog is small; at 10,000 a page would carry 20,000 options, so
        the list stops there and the picker's search box (which sets the select) finds the rest.
        """
        return self.order_by("name").values_list("slug", "name")[:PICKER_TOOLS]

    def with_panel(self):
        """Annotate each tool with its current panel's ship and skip counts.

        Column reads: triggers keep them exact in every writer's transaction
        (catalog/tally_triggers.py), so a list of 10,000 tools groups no reviews.
        """
        return self.select_related("category", "current_run").annotate(
            ship_count=F("panel_ship"), skip_count=F("panel_skip")
        )

    def with_community(self):
        """Annotate each tool with its community ship and skip votes.

        Read from the votes' stored tally (the reverse relation `vote_tally`, a row per voted
        tool kept by triggers on the votes; community/tally_triggers.py), so the catalog names
        no model of the community app and counts no votes; no row means no votes.
        """
        return self.annotate(
            vote_ship=Coalesce(F("vote_tally__ship"), 0), vote_skip=Coalesce(F("vote_tally__skip"), 0)
        )

    def with_tallies(self):
        """Both tallies every page shows: the panel's and the community's."""
        return self.with_panel().with_community()

    def reviewed(self):
        return self.filter(current_run__isnull=False)


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
    # What rival ranking weighs of the facts (catalog/rivals.py `features`), kept with them by
    # save() so a page ranks a category's tools with one small query and no facts parsed.
    # Empty (bulk inserts that leave it out, invalid facts): the facts are parsed instead.
    rival_features = models.JSONField(null=True, blank=True, editable=False)
    # The panel run whose reviews the site shows; set when a run completes.
    current_run = models.ForeignKey(
        "panel.PanelRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The current run's tally, kept by database triggers (catalog/tally_triggers.py); read it
    # through with_panel() / with_score(), never set it.
    panel_ship = models.IntegerField(default=0, editable=False)
    panel_skip = models.IntegerField(default=0, editable=False)
    panel_mean = models.FloatField(null=True, editable=False)

    objects = ToolQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # A category's tools in slug order: the sitemap's pairs (tool, then each later
            # same-category tool) come off this index with no sort of the millions of pairs;
            # with the current run, a category's reviewed tools are counted and cut off it alone.
            models.Index(fields=["category", "slug", "current_run"], name="tool_category_slug_run"),
            # All that `rival_pks` reads of a category's tools, so the index alone answers it
            # and no row with its long facts is read: at 1,400 to 2,200 tools a category, 2.4
            # to 0.65 ms on SQLite, 2.3 to 1.1 ms on PostgreSQL. (The id is the rowid in SQLite's
            # indexes already; PostgreSQL needs it named for an index-only scan.)
            models.Index(fields=["category", "name", "rival_features", "id"], name="tool_category_rivals"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "facts" in update_fields:
            self.rival_features = self.features_of_facts()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "rival_features"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return slug_url("catalog:tool", self.slug)

    def clean(self):
        # The admin's way in; files go through catalog/loading.py, with the same rule: one
        # line everywhere but the description (a text area: the browser sends CRLF).
        if errors := control_chars.model_errors(
            self,
            {
                **dict.fromkeys(
                    ["name", "slug", "vendor", "best_for", "pricing", "entry_price", "license", "website"], ""
                ),
                "description": control_chars.MULTILINE + "\r",
            },
        ):
            raise ValidationError(errors)
        if not slugify(self.name):
            raise ValidationError({"name": "A name needs at least one letter or digit."})
        try:
            self.facts = validate_facts(self.facts).model_dump(mode="json")
        except FactsError as exc:
            raise ValidationError({"facts": str(exc)}) from None

    def features_of_facts(self) -> list | None:
        """The facts' rival features (catalog/rivals.py); None when the facts do not validate."""
        from pydantic import ValidationError as FactsInvalid

        from shiporskip.catalog.rivals import features

        try:
            return features(self.parsed_facts)
        except FactsInvalid:
            return None

    @property
    def parsed_facts(self) -> ToolFacts:
        return ToolFacts.model_validate(self.facts)

    def rivals(self, n: int = PANEL_RIVALS) -> list["Tool"]:
        """Its n nearest same-category tools by facts (catalog/rivals.py), closest first."""
        nearest = self.rival_pks(n)
        found = Tool.objects.select_related("category").in_bulk(nearest)
        return [found[pk] for pk in nearest]

    def rival_pks(self, n: int = PANEL_RIVALS) -> list[int]:
        """The ids of `rivals(n)`, for a page that reads the tools with its own annotations.

        Ranked from the stored `rival_features`, read as raw JSON text: one query of three short
        columns for the category, and each distinct features list decoded and scored once (tools
        with equal facts score alike), no facts parsed but for rows stored without features.
        """
        from shiporskip.catalog.rivals import features, nearest_stored

        rows = (
            Tool.objects.filter(category_id=self.category_id)
            .exclude(pk=self.pk)
            .order_by()
            .values_list("pk", "name", Cast("rival_features", models.TextField()))
        )

        def parse(unset: list[int]) -> dict[int, list]:
            # Rows a bulk write left without features: their facts, parsed (one more query).
            facts = Tool.objects.filter(pk__in=unset).values_list("pk", "facts")
            return {pk: features(ToolFacts.model_validate(f)) for pk, f in facts}

        return nearest_stored(features(self.parsed_facts), rows, n, parse=parse)

    @property
    def initial(self) -> str:
        return self.name[:1].upper()

    def annotated(self, *names: str, by: str) -> list[int]:
        """The values the queryset method `by` annotated; NotAnnotated if it was not called.

        A tally read from a plain queryset would say 0/0, a wrong answer that looks right.
        """
        if missing := [n for n in names if n not in self.__dict__]:
            raise NotAnnotated(
                f"Tool {self.slug!r} has no {', '.join(missing)}: read it from "
                f"Tool.objects.{by}() (or with_tallies())."
            )
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


def tool_for_write(row, db: str = DEFAULT_DB_ALIAS) -> Tool | None:
    """The tool from a row of FOR_WRITE_SQL's columns (a write may read them back itself), or
    None for no row. A function: making the manager's queryset cost a vote more than this."""
    return Tool.from_db(db, FOR_WRITE_FIELDS, row[: len(FOR_WRITE_FIELDS)]) if row else None


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
