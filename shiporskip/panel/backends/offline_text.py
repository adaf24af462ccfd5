"""Fact phrases for the offline reviewer: each says one thing the facts record holds.

Every sentence the offline reviewer writes is built from these, so every claim in an
offline review can be traced to a field of the tool's facts or catalog entry.
"""

from shiporskip.panel.backends.base import ToolSnapshot

KIND = {"model": "a model", "app": "an application", "api": "a hosted API",
        "library": "a library", "platform": "a platform"}


def join(items, empty="none on record") -> str:
    items = list(items)
    if not items:
        return empty
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def maker(t: ToolSnapshot) -> str:
    return t.vendor or f"the makers of {t.name}"


def primitive(t: ToolSnapshot) -> str:
    f = t.facts
    if f.kind == "model" and f.open_weights:
        size = f" ({f.parameters})" if f.parameters else ""
        return f"open weights{size}"
    if f.kind == "model" and f.open_weights is False:
        return "a model served by its vendor, with no downloadable weights"
    return KIND[f.kind] + (", open source" if f.open_source else "")


def licence(t: ToolSnapshot) -> str:
    kinds = {"permissive": "a permissive licence", "copyleft": "a copyleft licence",
             "restricted": "a licence with use restrictions",
             "proprietary": "proprietary terms"}
    kind = kinds.get(t.facts.license_kind)
    if t.license and t.facts.license_kind and t.facts.license_kind in t.license.lower():
        return t.license  # "Proprietary" needs no ", proprietary terms"
    if t.license and kind:
        return f"{t.license}, {kind}"
    return t.license or kind or "a licence our facts do not record"


def released(t: ToolSnapshot) -> str:
    year = t.facts.release_year
    return f"released in {year}" if year else "with no release year on record"


def runtimes(t: ToolSnapshot) -> str:
    return join(t.facts.runtimes, empty="no runtimes on record")


def best_for(t: ToolSnapshot) -> str:
    return t.best_for.rstrip(". ") or "its stated use"


def price(t: ToolSnapshot) -> str:
    return t.pricing or t.entry_price or "no pricing on record"


def peers(t: ToolSnapshot) -> str:
    return join(t.peers[:3], empty=f"no other tool in our {t.category} catalog yet")


def context(t: ToolSnapshot) -> str:
    window = t.facts.context_window
    return f"a {window:,}-token context window" if window else "no context window on record"


# One fact-grounded claim per criterion, used for "wins on", "weakest on" and risks.
CLAIMS = {
    "integration": lambda t: (
        f"it offers an API and runs on {runtimes(t)}" if t.facts.api_available
        else f"it is {primitive(t)}, running on {runtimes(t)}"),
    "self_hosting": lambda t: {True: "it can run on your own hardware",
                               False: "it cannot be self-hosted",
                               None: "our facts do not say whether it can be self-hosted"}[
        t.facts.self_hostable],
    "efficiency": lambda t: (f"its size is {t.facts.parameters}" if t.facts.parameters
                             else "no model size is on record"),
    "cost_to_start": lambda t: f"pricing is {price(t)}",
    "maturity": lambda t: f"it was {released(t)}",
    "momentum": lambda t: f"it was {released(t)}",
    "evidence": lambda t: f"its facts cite {len(t.facts.sources)} source(s)",
    "openness": lambda t: f"it ships as {primitive(t)} under {licence(t)}",
    "license_freedom": lambda t: f"it is under {licence(t)}",
    "context": lambda t: f"it has {context(t)}",
    "runtime_reach": lambda t: f"it runs on {runtimes(t)}",
    "lock_in": lambda t: ("you can leave with the weights or code in hand"
                          if t.facts.open_weights or t.facts.open_source
                          else f"leaving means leaving {maker(t)}'s product"),
}


def claim(key: str, t: ToolSnapshot) -> str:
    fn = CLAIMS.get(key)
    return fn(t) if fn else f"on {key.replace('_', ' ')} our facts are thin"
