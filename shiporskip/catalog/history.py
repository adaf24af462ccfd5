"""Facts history: every change to a tool's facts is kept, field by field, with who made it.

A change that is more than a re-dating sends `facts_changed`; the panel app listens and
queues a re-review, so the catalog never imports the panel (dependencies run one way).
"""

from django.db import transaction
from django.dispatch import Signal

facts_changed = Signal()  # sender=Tool, tool=Tool, change=FactsChange

# Dates say when a figure was checked, not what it is: re-dating alone is not a change of facts.
DATE_KEYS = {"as_of", "facts_as_of", "users_as_of"}


def flatten(facts: dict | None, prefix: str = "") -> dict[str, object]:
    """Map a facts record to `path: value`, keying lists of records by what they describe."""
    flat: dict[str, object] = {}
    for key, value in (facts or {}).items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= flatten(value, f"{path}.")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for name, item in _keyed(value):
                flat |= flatten(item, f"{path}[{name}].")
        else:
            flat[path] = value
    return flat


def _keyed(items: list[dict]):
    seen: dict[str, int] = {}
    for item in items:
        name = str(item.get("metric") or item.get("parameters") or "?")
        seen[name] = seen.get(name, 0) + 1
        yield (name if seen[name] == 1 else f"{name}#{seen[name]}"), item


def diff(before: dict | None, after: dict) -> list[dict]:
    """The fields that differ: [{field, before, after}], in path order."""
    old, new = flatten(before), flatten(after)
    return [
        {"field": path, "before": old.get(path), "after": new.get(path)}
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]


def only_dates(changes: list[dict]) -> bool:
    return all(c["field"].rsplit(".", 1)[-1] in DATE_KEYS for c in changes)


def record_change(tool, before: dict | None, *, by: str):
    """Keep `before` if the tool's facts differ from it; signal a re-review when they really do."""
    from shiporskip.catalog.models import FactsChange, Tool

    changes = diff(before, tool.facts)
    if not changes:
        return None
    change = FactsChange.objects.create(
        tool=tool, by=by[:200], previous=before, facts=tool.facts, changes=changes
    )
    if before is not None and not only_dates(changes):
        transaction.on_commit(lambda: facts_changed.send(sender=Tool, tool=tool, change=change))
    return change
