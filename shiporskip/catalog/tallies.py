"""A tool's tallies as plain values: the panel's ship and skip reviews, the readers' ship and
skip votes, and where the two disagree.

The catalog's querysets read them as stored columns kept by database triggers
(catalog/tally_triggers.py, community/tally_triggers.py), through the tool's own columns and
the votes' reverse relation, so `Tool.panel` and `Tool.community` are read without
the catalog importing the panel or community apps; the feeds, the panel's history and stats
build a `PanelTally` from their own counts with the same rule.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ShipSkipTally:
    """Ship and skip counts, and the verdict they give: the panel's and the readers' alike."""

    ship: int
    skip: int

    @property
    def total(self) -> int:
        return self.ship + self.skip

    @property
    def ship_share(self) -> int | None:
        """Percentage that says ship, rounded; None before any review or vote."""
        return round(100 * self.ship / self.total) if self.total else None

    @property
    def verdict(self) -> str | None:
        """Ship above half, Skip below, Split at exactly half."""
        if not self.total:
            return None
        if 2 * self.ship > self.total:
            return "Ship"
        return "Skip" if 2 * self.ship < self.total else "Split"


class PanelTally(ShipSkipTally):
    @property
    def label(self) -> str:
        if not self.total:
            return "Not reviewed yet"
        return f"{self.verdict} · {self.ship} ship / {self.skip} skip"

    @property
    def short_label(self) -> str:
        """'Ship · 3/4': where a badge or a card has room for less."""
        return f"{self.verdict} · {self.ship}/{self.total}" if self.total else "Not reviewed yet"

    def as_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "ship": self.ship,
            "skip": self.skip,
            "ship_share": self.ship_share,
            "label": self.label,
        }


# Below this many votes a community majority is noise: no disagreement is called.
MIN_VOTES_TO_DISAGREE = 5


class CommunityTally(ShipSkipTally):
    @property
    def label(self) -> str:
        """'Ship 68% · 25 votes': the majority side and its share."""
        if not self.total:
            return "No community votes yet"
        side = self.ship if self.verdict != "Skip" else self.skip
        share = round(100 * side / self.total)
        return f"{self.verdict} {share}% · {self.total} vote{'s' if self.total != 1 else ''}"

    def as_dict(self) -> dict:
        return {"ship": self.ship, "skip": self.skip}


def disagreement(panel, community: CommunityTally) -> str | None:
    """Say so when the panel and a clear community majority point opposite ways."""
    if community.total < MIN_VOTES_TO_DISAGREE or {panel.verdict, community.verdict} != {"Ship", "Skip"}:
        return None
    return (
        f"The panel and the community disagree: the panel says {panel.verdict}, "
        f"readers mostly say {community.verdict} ({community.label})."
    )
