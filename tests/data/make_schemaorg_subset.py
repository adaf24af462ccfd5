"""Rebuild schemaorg_subset.json from schema.org's release CSVs (the vocabulary's own files).

    git clone https://github.com/schemaorg/schemaorg
    python tests/data/make_schemaorg_subset.py schemaorg/data/releases/30.0 > tests/data/schemaorg_subset.json

Keeps, for each type our JSON-LD uses, its supertypes and every property schema.org defines
for it (inherited ones included), and each such property's expected types (rangeIncludes).
"""

import csv
import json
import sys
from pathlib import Path

TYPES = [
    "SoftwareApplication",
    "Review",
    "Rating",
    "AggregateRating",
    "Offer",
    "UnitPriceSpecification",
    "Organization",
    "Person",
]
BASE = "https://schema.org/"


def names(cell: str) -> list[str]:
    return [x.strip().removeprefix(BASE) for x in cell.split(",") if x.strip()]


def main(release: Path) -> None:
    csv.field_size_limit(1 << 24)
    with open(release / "schemaorg-current-https-types.csv", newline="") as f:
        types = {row["label"]: row for row in csv.DictReader(f)}
    with open(release / "schemaorg-current-https-properties.csv", newline="") as f:
        props = {row["label"]: row for row in csv.DictReader(f)}

    def ancestors(name: str) -> list[str]:
        found, todo = [], names(types[name]["subTypeOf"])
        while todo:
            t = todo.pop()
            if t not in found and t in types:
                found.append(t)
                todo.extend(names(types[t]["subTypeOf"]))
        return sorted(found)

    out = {
        "source": f"schema.org vocabulary, {release} (schemaorg-current-https-*.csv)",
        "types": {},
        "ranges": {},
    }
    for name in TYPES:
        # A few names listed under a type are not (or no longer) defined as properties: leave them out.
        allowed = sorted(p for p in names(types[name]["properties"]) if p in props)
        out["types"][name] = {"supertypes": ancestors(name), "properties": allowed}
        for p in allowed:
            out["ranges"][p] = names(props[p]["rangeIncludes"])
    json.dump(out, sys.stdout, indent=0, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
