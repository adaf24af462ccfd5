"""How sure the panel is, derived from stored reviews (never typed in). Its ship/skip tally is
`catalog/tallies.py`'s `PanelTally`, which the catalog's querysets count."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PanelDoubt:
    """How sure the panel is, from its reviews: how many ships are certain, which persona dissents."""

    sure_ship: int  # reviews that ship even at the low end of their range
    could_ship: int  # reviews that would ship at the high end of their range
    total: int
    provisional: int  # reviews resting on too few known facts
    dissent: tuple  # the one review against the panel's majority, if exactly one
    ranged: int = 0  # reviews that carry a range and a bar: only they can say how sure they are

    @property
    def settled(self) -> bool:
        """No review could change sides, and every one of them says so on known facts."""
        return self.sure_ship == self.could_ship and self.ranged == self.total and not self.provisional

    @property
    def share_range(self) -> tuple[int, int] | None:
        if not self.total:
            return None
        return round(100 * self.sure_ship / self.total), round(100 * self.could_ship / self.total)


def panel_doubt(reviews) -> PanelDoubt:
    """Derive the panel's range and dissent from its reviews (nothing is stored twice)."""
    reviews = [r for r in reviews if r.score is not None]  # an abstention counts in neither column
    ranged = [
        r for r in reviews if r.bar is not None and r.score_low is not None and r.score_high is not None
    ]
    plain = sum(r.verdict == "ship" for r in reviews if r not in ranged)  # no range: its verdict as stored
    sure = plain + sum(r.score_low >= r.bar for r in ranged)
    could = plain + sum(r.score_high >= r.bar for r in ranged)
    ships = [r for r in reviews if r.verdict == "ship"]
    skips = [r for r in reviews if r.verdict == "skip"]
    minority = []
    if len(ships) == 1 and len(skips) > 1:
        minority = ships
    elif len(skips) == 1 and len(ships) > 1:
        minority = skips
    return PanelDoubt(
        sure, could, len(reviews), sum(r.provisional for r in reviews), tuple(minority), ranged=len(ranged)
    )
