"""Facts-based criterion scorers for the offline reviewer: each maps facts to 0-100.

Unknown facts score near the middle: the panel neither rewards nor punishes what we do not know.
"""

from shiporskip.catalog.facts import ToolFacts

NEUTRAL = 50


def _years(f: ToolFacts) -> int | None:
    return None if f.release_year is None else max(0, f.facts_as_of.year - f.release_year)


def _step(value, steps, default):
    """Return the score of the first (threshold, score) with value <= threshold."""
    if value is None:
        return default
    for threshold, score in steps:
        if value <= threshold:
            return score
    return steps[-1][1]


def integration(f: ToolFacts) -> int:
    score = {True: 80, False: 60, None: 62}[f.api_available]
    return score + (10 if f.open_weights else 0) + 2 * min(len(f.runtimes), 4)


def self_hosting(f: ToolFacts) -> int:
    return {True: 90, False: 45, None: 55}[f.self_hostable]


def efficiency(f: ToolFacts) -> int:
    size = f.max_parameters_billions()
    if size is None:
        return 65 if f.kind == "model" else 75
    return _step(size, [(10, 92), (25, 86), (80, 74), (float("inf"), 58)], 65)


def cost_to_start(f: ToolFacts) -> int:
    table = {"free": 95, "freemium": 88, "usage": 76, "subscription": 66, "enterprise": 45}
    return table.get(f.pricing_model, 55)


def maturity(f: ToolFacts) -> int:
    return _step(_years(f), [(0, 58), (1, 70), (2, 80), (3, 86), (99, 90)], 55)


def momentum(f: ToolFacts) -> int:
    base = _step(_years(f), [(0, 92), (1, 86), (2, 78), (3, 70), (99, 62)], 60)
    return base + (3 if f.open_weights else 0)


OPTIONAL_FACTS = ["open_weights", "open_source", "license_kind", "pricing_model",
                  "self_hostable", "parameters", "context_window", "api_available",
                  "release_year"]


def known_share(f: ToolFacts) -> float:
    known = sum(getattr(f, name) is not None for name in OPTIONAL_FACTS) + bool(f.runtimes)
    return known / (len(OPTIONAL_FACTS) + 1)


def evidence(f: ToolFacts) -> int:
    return round(40 + 50 * known_share(f) + 3 * min(len(f.sources) - 1, 2))


def openness(f: ToolFacts) -> int:
    licence = {"permissive": 25, "copyleft": 20, "restricted": 10, "proprietary": 0}
    score = 10 + 35 * bool(f.open_weights) + 30 * bool(f.open_source)
    return score + licence.get(f.license_kind, 5)


def license_freedom(f: ToolFacts) -> int:
    table = {"permissive": 95, "copyleft": 78, "restricted": 52, "proprietary": 45}
    return table.get(f.license_kind, NEUTRAL)


def context(f: ToolFacts) -> int:
    default = 60 if f.kind in {"model", "api"} else 70
    return _step(f.context_window, [(7_999, 55), (31_999, 70), (127_999, 84), (10**9, 94)],
                 default)


def runtime_reach(f: ToolFacts) -> int:
    return _step(len(f.runtimes), [(0, 50), (1, 62), (2, 72), (3, 80), (99, 88)], 50)


def lock_in(f: ToolFacts) -> int:
    score = 40 + 25 * bool(f.self_hostable) + 20 * bool(f.open_weights or f.open_source)
    return score + 10 * (f.license_kind in {"permissive", "copyleft"})


SCORERS = {fn.__name__: fn for fn in [
    integration, self_hosting, efficiency, cost_to_start, maturity, momentum, evidence,
    openness, license_freedom, context, runtime_reach, lock_in,
]}


def score_criterion(key: str, facts: ToolFacts) -> int:
    scorer = SCORERS.get(key)
    return max(0, min(100, scorer(facts))) if scorer else NEUTRAL


def weighted_score(criteria: list[dict], subscores: dict[str, int]) -> int:
    total = sum(c["weight"] for c in criteria)
    return round(sum(c["weight"] * subscores[c["key"]] for c in criteria) / total)
