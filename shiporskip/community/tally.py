"""The community's ship/skip tally for a tool, and where it disagrees with the panel."""

from shiporskip.panel.tally import ShipSkipTally

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
    return (f"The panel and the community disagree: the panel says {panel.verdict}, "
            f"readers mostly say {community.verdict} ({community.label}).")
