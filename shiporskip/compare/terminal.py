"""The comparison as a side-by-side table for a terminal."""

import shutil
import textwrap

from shiporskip.compare.comparison import Comparison


def render(c: Comparison, width: int | None = None) -> str:
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 120)
    label_w = 16
    col_w = max(20, (width - label_w - 6) // 2)
    rows = [
        ("Panel verdict", c.left.panel.label, c.right.panel.label),
        ("Panel ship", share(c.left), share(c.right)),
        ("Community", c.left.community.label, c.right.community.label),
        ("Pricing", c.left.pricing or "-", c.right.pricing or "-"),
        ("Entry", c.left.entry_price or "-", c.right.entry_price or "-"),
        ("Best for", c.left.best_for or "-", c.right.best_for or "-"),
        ("Category", c.left.category.name, c.right.category.name),
    ]
    rows += [(row.persona.name, score(row.left), score(row.right)) for row in c.rows]
    rule = "-" * (label_w + 2 * col_w + 6)
    lines = [c.title, rule, line("", c.left.name, c.right.name, label_w, col_w), rule]
    for label, left, right in rows:
        lines.extend(wrapped(label, left, right, label_w, col_w))
    lines.append(rule)
    return "\n".join(lines)


def share(tool) -> str:
    return f"{tool.panel.ship_share}%" if tool.panel.total else "-"


def score(review) -> str:
    if review is None:
        return "not reviewed"
    return "no verdict" if review.score is None else f"{review.score}/100 · {review.verdict}"


def line(label, left, right, label_w, col_w) -> str:
    return f"{label:<{label_w}} | {left:<{col_w}} | {right}".rstrip()


def wrapped(label, left, right, label_w, col_w) -> list[str]:
    lefts = textwrap.wrap(left, col_w) or [""]
    rights = textwrap.wrap(right, col_w) or [""]
    count = max(len(lefts), len(rights))
    lefts += [""] * (count - len(lefts))
    rights += [""] * (count - len(rights))
    labels = [label] + [""] * (count - 1)
    return [line(lb, lt, rt, label_w, col_w) for lb, lt, rt in zip(labels, lefts, rights, strict=True)]
