"""Social cards: the 1200x630 PNG a shared link unfurls into (Open Graph, Twitter).

A card is drawn from a `Card`, the few words and numbers it shows. Its version is a digest
of exactly those, so the image's address changes when a verdict, a score or a name changes
and stays the same otherwise: the PNG can then be cached for a year as immutable, and a new
verdict is a new URL that link previews fetch afresh.
"""

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from django.urls import reverse
from PIL import Image, ImageDraw, ImageFont

from shiporskip.catalog.tallies import PanelTally
from shiporskip.sharing.links import absolute

WIDTH, HEIGHT = 1200, 630
# Bump when the drawing changes, so every card gets a new address and caches let go of old ones.
DESIGN = "1"

INK, WHITE, SOFT, MUTED = "#1a1a2e", "#ffffff", "#c9c9ff", "#a3a3c2"
PILL = {"Ship": "#0f6b3a", "Skip": "#9b1c1c", "Split": "#7a5200", None: "#555766"}
SCORE = {"ship": "#7fdca4", "skip": "#f4a3a3", "none": MUTED}


@dataclass(frozen=True)
class Side:
    """One tool as a card shows it."""

    name: str
    byline: str  # vendor and category
    verdict: str | None  # Ship, Skip, Split, or None before any scored review
    label: str  # "Ship · 3/4", or "Not reviewed yet"
    mean: int | None  # the panel's mean score, abstentions left out
    scores: tuple[tuple[str, int | None, str], ...]  # (persona, score, verdict) in panel order


@dataclass(frozen=True)
class Card:
    sides: tuple[Side, ...]  # none: the site's own card; one: a tool; two: a comparison

    @property
    def version(self) -> str:
        blob = json.dumps({"design": DESIGN, "card": asdict(self)}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def alt(self) -> str:
        """The card in words, for og:image:alt and the img's alt text."""
        if not self.sides:
            return "Ship or Skip: which AI tool should you ship?"
        return " vs ".join(
            f"{s.name}: {s.label}" + (f", mean score {s.mean}/100" if s.mean is not None else "")
            for s in self.sides
        )


def side(tool, reviews) -> Side:
    """A tool and its current reviews (personas selected) as a card shows them."""
    scored = [r for r in reviews if r.score is not None]
    ship = sum(r.verdict == "ship" for r in scored)
    tally = PanelTally(ship=ship, skip=len(scored) - ship)
    mean = round(sum(r.score for r in scored) / len(scored)) if scored else None
    byline = " · ".join(x for x in (tool.vendor, tool.category.name) if x)
    return Side(
        name=tool.name,
        byline=byline,
        verdict=tally.verdict,
        label=tally.short_label,
        mean=mean,
        scores=tuple((r.persona.name, r.score, r.verdict) for r in reviews),
    )


def tool_card(tool, reviews) -> Card:
    return Card((side(tool, reviews),))


def pair_card(comparison) -> Card:
    left = [row.left for row in comparison.rows if row.left]
    right = [row.right for row in comparison.rows if row.right]
    return Card((side(comparison.left, left), side(comparison.right, right)))


SITE_CARD = Card(())


def image_url(card: Card, path: str) -> str:
    """The card's absolute address, carrying its version."""
    return absolute(path, v=card.version)


def tool_image_url(tool, reviews) -> str:
    return image_url(tool_card(tool, reviews), reverse("sharing:tool_card", args=[tool.slug]))


def pair_image_url(comparison) -> str:
    pair = f"{comparison.left.slug}-vs-{comparison.right.slug}"
    return image_url(pair_card(comparison), reverse("sharing:pair_card", args=[pair]))


def site_image_url() -> str:
    return image_url(SITE_CARD, reverse("sharing:site_card"))


# Drawing ---------------------------------------------------------------------------------

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu where it is installed (wide Unicode coverage), else Pillow's bundled font."""
    path = DEJAVU / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if path.exists():
        return ImageFont.truetype(str(path), size)
    bundled = ImageFont.load_default(size=size)
    # A bitmap font only from a Pillow built without FreeType: the layout reads `.size`,
    # which a FreeType font alone has.
    assert isinstance(bundled, ImageFont.FreeTypeFont)
    return bundled


def fit(
    draw: ImageDraw.ImageDraw, text: str, width: int, sizes: list[int], *, bold=False, lines: int = 1
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest size at which `text` fits in `lines` lines of `width`; else cut with an ellipsis."""
    for size in sizes:
        f = font(size, bold)
        wrapped = wrap(draw, text, f, width)
        if len(wrapped) <= lines:
            return f, wrapped
    f = font(sizes[-1], bold)
    wrapped = wrap(draw, text, f, width)[:lines]
    last = wrapped[-1]
    while last and draw.textlength(last + "…", font=f) > width:
        last = last[:-1]
    wrapped[-1] = last.rstrip() + "…"
    return f, wrapped


def wrap(draw, text: str, f, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=f) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines or [""]


def pill(draw, xy: tuple[int, int], text: str, verdict: str | None, size: int) -> int:
    """A verdict pill at xy; returns its right edge."""
    f = font(size, bold=True)
    x, y = xy
    w = int(draw.textlength(text, font=f))
    pad = size // 2
    draw.rounded_rectangle(
        (x, y, x + w + 2 * pad, y + size + pad), radius=(size + pad) // 2, fill=PILL.get(verdict, PILL[None])
    )
    draw.text((x + pad, y + pad // 2), text, font=f, fill=WHITE)
    return x + w + 2 * pad


def brand(draw) -> None:
    draw.text((64, 48), "Ship", font=font(36, True), fill=WHITE)
    x = 64 + draw.textlength("Ship ", font=font(36, True))
    draw.text((x, 48), "or", font=font(36), fill=SOFT)
    x += draw.textlength("or ", font=font(36))
    draw.text((x, 48), "Skip", font=font(36, True), fill=WHITE)


def draw_tool(draw, s: Side) -> None:
    f, lines = fit(draw, s.name, WIDTH - 128, [84, 72, 60, 52], bold=True, lines=2)
    y = 130
    for line in lines:
        draw.text((64, y), line, font=f, fill=WHITE)
        y += int(f.size * 1.15)
    f, [byline] = fit(draw, s.byline, WIDTH - 128, [32, 26])
    draw.text((64, y + 8), byline, font=f, fill=SOFT)
    y += 80
    right = pill(draw, (64, y), s.label, s.verdict, 52)
    if s.mean is not None:
        draw.text((right + 32, y + 16), f"mean score {s.mean}/100", font=font(40), fill=WHITE)
    draw_scores(draw, s, 64, HEIGHT - 92, WIDTH - 128)


def draw_scores(draw, s: Side, x: int, y: int, width: int) -> None:
    """Each persona's score in a row, coloured by its verdict; what does not fit is left out."""
    for size in (30, 26, 22):
        f = font(size)
        parts = [(f"{name} {'–' if score is None else score}", verdict) for name, score, verdict in s.scores]
        total = sum(draw.textlength(t, font=f) for t, _ in parts) + 36 * max(len(parts) - 1, 0)
        if total <= width:
            break
    for text, verdict in parts:
        if x + draw.textlength(text, font=f) > WIDTH - 64:
            break
        draw.text((x, y), text, font=f, fill=SCORE.get(verdict, MUTED))
        x += int(draw.textlength(text, font=f)) + 36


def draw_pair(draw, sides: tuple[Side, Side]) -> None:
    col = (WIDTH - 128 - 80) // 2
    for i, s in enumerate(sides):
        x = 64 + i * (col + 80)
        f, lines = fit(draw, s.name, col, [60, 52, 44, 38], bold=True, lines=2)
        y = 140
        for line in lines:
            draw.text((x, y), line, font=f, fill=WHITE)
            y += int(f.size * 1.15)
        f, [byline] = fit(draw, s.byline, col, [26, 22])
        draw.text((x, 300), byline, font=f, fill=SOFT)
        pill(draw, (x, 360), s.label, s.verdict, 44)
        if s.mean is not None:
            draw.text((x, 450), f"mean score {s.mean}/100", font=font(36), fill=WHITE)
    draw.text((WIDTH // 2, 178), "vs", font=font(44, True), fill=MUTED, anchor="mm")
    draw.text(
        (64, HEIGHT - 84),
        "Which one should you ship? The panel's verdicts side by side.",
        font=font(28),
        fill=SOFT,
    )


def draw_site(draw) -> None:
    draw.text((64, 200), "Which AI tool", font=font(88, True), fill=WHITE)
    draw.text((64, 305), "should you ship?", font=font(88, True), fill=WHITE)
    draw.text(
        (64, 460),
        "A panel of AI reviewers gives each tool a verdict from its checked facts.",
        font=fit(
            draw,
            "A panel of AI reviewers gives each tool a verdict from its checked facts.",
            WIDTH - 128,
            [32, 28, 24],
        )[0],
        fill=SOFT,
    )


def render(card: Card) -> bytes:
    """The card as PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), INK)
    draw = ImageDraw.Draw(image)
    brand(draw)
    if len(card.sides) == 1:
        draw_tool(draw, card.sides[0])
    elif len(card.sides) == 2:
        draw_pair(draw, card.sides)
    else:
        draw_site(draw)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
