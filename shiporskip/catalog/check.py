"""`shiporskip catalog check`: which tools have thin or old evidence, for a publisher to fix."""

import json
from dataclasses import dataclass

from shiporskip.catalog.coverage import Coverage, coverage
from shiporskip.catalog.facts import ToolFacts


@dataclass(frozen=True)
class Checked:
    slug: str
    kind: str
    coverage: Coverage


def check_tools(tools: list[tuple[str, ToolFacts]]) -> list[Checked]:
    return [Checked(slug, facts.kind, coverage(facts)) for slug, facts in tools]


def summary(rows: list[Checked]) -> dict:
    n = len(rows) or 1
    return {
        "tools": len(rows),
        "mean_coverage": round(sum(r.coverage.share for r in rows) / n, 3),
        "with_evidence": sum(r.coverage.evidence > 0 for r in rows),
        "with_price": sum("no price in numbers" not in r.coverage.warnings for r in rows),
        "stale": sum(r.coverage.stale for r in rows),
    }


def report(rows: list[Checked], *, as_json: bool, min_coverage: float | None) -> int:
    """Print the check; return 1 when a tool is below `min_coverage`, else 0."""
    below = [r.slug for r in rows if min_coverage is not None and r.coverage.share < min_coverage]
    if as_json:
        print(
            json.dumps(
                {
                    "tools": [r.coverage.as_json(r.slug) for r in rows],
                    "summary": summary(rows),
                    "below_min_coverage": below,
                },
                indent=2,
            )
        )
    else:
        print_table(rows)
        s = summary(rows)
        print(
            f"\n{s['tools']} tools: mean coverage {s['mean_coverage']:.0%}, "
            f"{s['with_evidence']} with capability evidence, {s['with_price']} with a price "
            f"in numbers, {s['stale']} stale"
        )
        if below:
            print(f"below --min-coverage {min_coverage:.0%}: {', '.join(below)}")
    return 1 if below else 0


def print_table(rows: list[Checked]) -> None:
    width = max([len(r.slug) for r in rows] + [4])
    print(f"{'tool':<{width}}  kind      cover  evid  checked     warnings")
    for r in rows:
        c = r.coverage
        print(
            f"{r.slug:<{width}}  {r.kind:<8}  {c.share:>5.0%}  {c.evidence:>4}  {c.checked}  "
            f"{'; '.join(c.warnings) or '-'}"
        )
