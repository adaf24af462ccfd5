"""Readers' ship/skip votes and bookmarks, one row per voter and tool."""

from django.db import models
from django.utils import timezone


class Verdict(models.TextChoices):
    SHIP = "ship", "Ship"
    SKIP = "skip", "Skip"


class VoteQuerySet(models.QuerySet):
    def cast(self, *, tool, voter: str, verdict: str) -> None:
        """Set or take back a voter's vote in one statement, safe against concurrent casts."""
        if verdict == "none":
            self.filter(tool=tool, voter=voter).delete()
            return
        # INSERT ... ON CONFLICT DO UPDATE: the unique constraint decides, not a read first,
        # so a double click or two tabs can never make two rows.
        self.bulk_create([Vote(tool=tool, voter=voter, verdict=verdict, updated_at=timezone.now())],
                         update_conflicts=True, unique_fields=["tool", "voter"],
                         update_fields=["verdict", "updated_at"])


class Vote(models.Model):
    tool = models.ForeignKey("catalog.Tool", on_delete=models.CASCADE, related_name="votes")
    # "u:<user id>" for an account, "a:<random id kept in the session>" for an anonymous browser.
    voter = models.CharField(max_length=40)
    verdict = models.CharField(max_length=4, choices=Verdict.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = VoteQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tool", "voter"], name="one_vote_per_voter")]
        indexes = [models.Index(fields=["voter"]), models.Index(fields=["tool", "verdict"])]

    def __str__(self):
        return f"{self.voter} says {self.verdict} to {self.tool_id}"


class BookmarkQuerySet(models.QuerySet):
    def put(self, *, tool, owner: str, on: bool) -> None:
        """Bookmark or unbookmark: idempotent, so a repeated click changes nothing more."""
        if on:
            self.bulk_create([Bookmark(tool=tool, owner=owner)], ignore_conflicts=True)
        else:
            self.filter(tool=tool, owner=owner).delete()


class Bookmark(models.Model):
    tool = models.ForeignKey("catalog.Tool", on_delete=models.CASCADE, related_name="bookmarks")
    owner = models.CharField(max_length=40)  # a voter id, as on Vote
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BookmarkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["tool", "owner"], name="one_bookmark_per_owner")]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self):
        return f"{self.owner} keeps {self.tool_id}"


class RateCounter(models.Model):
    """Hits of one rate-limit key in one time slot; see ratelimit.py."""

    key = models.CharField(max_length=200)
    slot = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "slot"], name="one_counter_per_slot")]

    def __str__(self):
        return f"{self.key} @ {self.slot}: {self.hits}"
