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
