"""Panel aggregates, always derived from stored reviews (never typed in)."""

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

    def as_dict(self) -> dict:
        return {"verdict": self.verdict, "ship": self.ship, "skip": self.skip,
                "ship_share": self.ship_share, "label": self.label}


@dataclass(frozen=True)
class PanelDoubt:
    """How sure the panel is, from its reviews: how many ships are certain, which persona dissents."""

    sure_ship: int  # reviews that ship even at the low end of their range
    could_ship: int  # reviews that would ship at the high end of their range
    total: int
    provisional: int  # reviews resting on too few known facts
    dissent: tuple  # the one review against the panel's majority, if exactly one

    @property
    def settled(self) -> bool:
        return self.sure_ship == self.could_ship

    @property
    def share_range(self) -> tuple[int, int] | None:
        if not self.total:
            return None
        return round(100 * self.sure_ship / self.total), round(100 * self.could_ship / self.total)


def panel_doubt(reviews) -> PanelDoubt:
    """Derive the panel's range and dissent from its reviews (nothing is stored twice)."""
    reviews = list(reviews)
    low = [r.score_low if r.score_low is not None else r.score for r in reviews]
    high = [r.score_high if r.score_high is not None else r.score for r in reviews]
    sure = sum(lo >= r.bar for lo, r in zip(low, reviews, strict=True))
    could = sum(hi >= r.bar for hi, r in zip(high, reviews, strict=True))
    ships = [r for r in reviews if r.verdict == "ship"]
    skips = [r for r in reviews if r.verdict == "skip"]
    minority = []
    if len(ships) == 1 and len(skips) > 1:
        minority = ships
    elif len(skips) == 1 and len(ships) > 1:
        minority = skips
    return PanelDoubt(sure, could, len(reviews), sum(r.provisional for r in reviews), tuple(minority))
