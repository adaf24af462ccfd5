"""Section writers for the offline reviewer: each persona's structure, from computed claims.

A writer states the tool's own figures and its contrasts with named rivals; where a fact is
unknown it says so by name. No sentence is a template that reads the same for every tool:
each carries the tool's name, a figure or a rival.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from shiporskip.catalog.coverage import coverage
from shiporskip.panel.backends import offline_text as say
from shiporskip.panel.standing import MIN_FIELD

if TYPE_CHECKING:
    from shiporskip.panel.backends.offline import Draft
    from shiporskip.panel.specs import CriterionSpec, SectionSpec


# Claims per criterion ------------------------------------------------------------------
def best_contrast(d: Draft, prefix: str, *, ahead: bool | None = True):
    for c in say.all_contrasts(d.tool):
        if c.dim.startswith(prefix) and (ahead is None or c.ahead == ahead):
            return c
    return None


def top_figure(t) -> str | None:
    caps = t.facts.capabilities
    if not caps:
        return None
    best = max(caps, key=lambda c: (c.value if c.unit == "percent" else 0, c.metric))
    setup = f" ({say.clip(best.setup.split(',')[0], 70)})" if best.setup else ""
    return f"{best.shown()} on {best.label}{setup}"


def claim(d: Draft, key: str) -> str:
    """One sentence-part grounding criterion `key` in this tool's facts and rivals."""
    t, f = d.tool, d.tool.facts
    if key in {"works", "standing", "frontier"}:
        score = d.subscores[key]
        c = best_contrast(d, "cap:", ahead=score is not None and score >= 50) or best_contrast(
            d, "cap:", ahead=None
        )
        if c:
            return c.text
        figure = top_figure(t)
        if figure:
            return f"its best public figure is {figure}"
        if key == "standing" and f.adoption:  # standing without a benchmark rests on adoption
            return _durability(d)
        return "no public benchmark figure is on record"
    if key in {"cost_to_try", "unit_economics"}:
        c = best_contrast(d, "seat", ahead=None) or best_contrast(d, "tokens", ahead=None)
        words = say.price(f)
        if c:
            return c.text
        if words == "free to use":
            return "it is free to use"
        return f"it costs {words}" if words else "no price in numbers is on record"
    if key in {"track_record", "momentum"}:
        c = best_contrast(d, "release_year", ahead=None)
        last = f.adoption.last_release if f.adoption else None
        tail = f", last release {last.isoformat()}" if last else ""
        if c:
            return c.text + tail
        return (
            f"first released in {f.release_year}{tail}"
            if f.release_year
            else f"no release year on record{tail}"
        )
    if key in {"exit_options", "open_ecosystem", "licence_terms"}:
        terms = f.terms.commercial_use.rstrip(".") if f.terms else None
        base = f"it ships as {say.primitive(t)} under {say.licence(t)}"
        return f"{base} ({terms})" if terms and key == "licence_terms" else base
    return OTHER_CLAIMS.get(key, lambda d: f"{key.replace('_', ' ')} is judged on thin facts")(d)


def _integration(d: Draft) -> str:
    f = d.tool.facts
    api = {True: "an API", False: "no API of its own", None: "no API on record"}[f.api_available]
    return f"it offers {api} and runs on {say.join(f.runtimes, 'no runtime on record')}"


def _runs(d: Draft) -> str:
    """Where it runs, from the same facts the scorer weighs: hosting, platforms, GPU, memory."""
    f, dep, lim = d.tool.facts, d.tool.facts.deployment, d.tool.facts.limits
    parts = []
    if f.self_hostable is False:
        parts.append(f"it runs as {say.maker(d.tool)}'s hosted service")
    elif f.self_hostable:
        parts.append("it can be self-hosted")
    if dep and dep.on_device:
        parts.append("it runs on-device")
    if lim and lim.platforms:
        parts.append(f"on {say.join(lim.platforms)}")
    if lim and lim.gpu_required is not None:
        parts.append("it needs a GPU" if lim.gpu_required else "no GPU is needed")
    if words := say.memory(f):
        parts.append(words)
    return "; ".join(parts) if parts else "where it can run is not on record"


def _checkable(d: Draft) -> str:
    cov = coverage(d.tool.facts)
    return (
        f"{len(cov.known)} of {cov.total} applicable facts are sourced, with "
        f"{cov.evidence} benchmark figure{'s' if cov.evidence != 1 else ''}"
    )


def _capacity(d: Draft) -> str:
    c = best_contrast(d, "context", ahead=None)
    window = d.tool.facts.context_window
    if c:
        return c.text
    return f"a {say.tokens(window)} context window" if window else "no context window on record"


def _durability(d: Draft) -> str:
    """Adoption, years in market and certifications: the parts the durability scorer weighs."""
    f, a, dep = d.tool.facts, d.tool.facts.adoption, d.tool.facts.deployment
    parts = []
    if a and a.users:
        parts.append(f"a published headcount of {a.users:,}")
    elif a and a.usage:
        parts.append(f"published usage: {say.clip(a.usage.rstrip('.'), 120)}")
    if a and a.stars:
        parts.append(f"{a.stars:,} GitHub stars as of {a.as_of.isoformat()}")
    if f.release_year:
        parts.append(f"in market since {f.release_year}")
    if dep and dep.certifications:
        parts.append(f"certified {say.join(dep.certifications)}")
    return "; ".join(parts) if parts else "no adoption figure is on record"


def _data(d: Draft) -> str:
    f, dep = d.tool.facts, d.tool.facts.deployment
    if f.self_hostable:
        return "self-hosted, the data never leaves your machines"
    parts = []
    if dep and dep.trains_on_your_data is not None:
        trains = dep.trains_on_your_data
        parts.append("trains on customer data" if trains else "does not train on customer data")
    if dep and dep.certifications:
        parts.append(f"holds {say.join(dep.certifications)}")
    if dep and dep.data_retention:
        parts.append(f"keeps data as follows: {say.clip(dep.data_retention.rstrip('.'), 120)}")
    return (f"{say.maker(d.tool)} " + " and ".join(parts)) if parts else "its data terms are not on record"


OTHER_CLAIMS = {
    "integration": _integration,
    "runs_where_needed": _runs,
    "checkable": _checkable,
    "capacity": _capacity,
    "vendor_durability": _durability,
    "data_terms": _data,
}


def about(d: Draft, criterion: CriterionSpec) -> str:
    key = criterion.key
    return f"{criterion.label.lower()} ({d.subscores[key]}/100: {claim(d, key)})"


def unknown_names(d: Draft) -> str:
    return say.join([c.label.lower() for c in d.unknown()], empty="")


def verdict_line(d: Draft) -> str:
    if d.score is None:
        return (
            f"No verdict on {d.tool.name}: none of what {d.persona.name} weighs "
            f"({say.join([c.label.lower() for c in d.persona.criteria])}) is on record"
        )
    return (
        f"{d.verdict.capitalize()} for {d.tool.name}: {d.score} against a bar of {d.bar} "
        f"({d.margin:+d}; it could read {d.low}-{d.high} with other weights)"
    )


def leading_rival(d: Draft):
    """The rival that beats the tool on the most shared figures, with one of those figures."""
    losses: dict[str, list] = {}
    for c in say.all_contrasts(d.tool):
        if c.ahead is False:
            losses.setdefault(c.rival, []).append(c)
    if not losses:
        return None, None
    rival = max(losses, key=lambda r: (len(losses[r]), r))
    return rival, losses[rival][0]


def money_pair(f) -> str:
    p = f.price
    out = say.money(p.output_per_mtok, p.currency) if p.output_per_mtok is not None else "?"
    return f"{say.money(p.input_per_mtok, p.currency)} in and {out} out per million tokens"


# Builder -------------------------------------------------------------------------------
def builder_primitive(d: Draft) -> str:
    t, f = d.tool, d.tool.facts
    text = f"{t.name} is {say.primitive(t)} from {say.maker(t)}."
    if words := say.memory(f):
        text += f" Of its sizes, {words}."
    elif f.self_hostable is False:
        text += f" There is nothing to download: {t.name} runs on {say.maker(t)}'s servers."
    if f.runtimes:
        text += f" {t.name} runs on {say.join(f.runtimes)}."
    return text


def builder_dx_bet(d: Draft) -> str:
    t, f = d.tool, d.tool.facts
    words = say.price(f)
    priced = {None: ", at a price not on record", "free to use": ", free to use"}.get(words, f" at {words}")
    if f.kind in {"api", "platform"}:
        bet = f"{say.maker(t)} bets that you call {t.name} from code and pay as you go{priced}"
    elif f.self_hostable and f.kind == "model":
        bet = f"{say.maker(t)} bets that you run {t.name} yourself{priced}"
    elif f.kind == "library":
        bet = f"{say.maker(t)} bets that {t.name} becomes the layer your code is written against{priced}"
    else:
        bet = f"{say.maker(t)} bets that {t.name} is where the work happens{priced}"
    return f"{bet}. On integration, {t.name} {_integration(d).removeprefix('it ')}."


def builder_moment(d: Draft) -> str:
    t, f = d.tool, d.tool.facts
    first = {
        "model": f"load {t.name} in {f.runtimes[0] if f.runtimes else 'a runtime'} and give it a "
        "real task from your backlog",
        "app": f"point {t.name} at an existing repository and ask for a real change",
        "api": f"call {t.name} from a script with your own key on a real request",
        "library": f"wire {t.name} into an existing service and run one real workflow",
        "platform": f"run a first real workload on {t.name}",
    }[f.kind]
    c = best_contrast(d, "cap:", ahead=None)
    if c:
        outcome = f"The evidence on whether it survives: {c.text}."
    elif figure := top_figure(t):
        outcome = f"The evidence on whether it survives: {figure}, with no rival figure to set it against."
    else:
        outcome = f"No public benchmark covers {t.name}, so whether it survives is yours to test."
    return f"First real task: {first}. {outcome}"


def builder_decision(d: Draft) -> str:
    pick = d.decisive()
    text = verdict_line(d) + "."
    if d.score is None:
        return text
    if pick:
        text += f" What decides {d.tool.name} is {about(d, pick)}."
    if missing := unknown_names(d):
        text += f" Left out of {d.tool.name}'s score for want of facts: {missing}."
    return text


# Skeptic -------------------------------------------------------------------------------
def skeptic_category(d: Draft) -> str:
    t = d.tool
    if not t.rivals:
        return f"{t.name} sits in {t.category}, with no other tool of ours to measure it against yet."
    return (
        f"{t.name} sits in {t.category}; the nearest rivals to {t.name} on kind, size, price and "
        f"deployment are {say.join(t.peers)}."
    )


def skeptic_wins(d: Draft) -> str:
    contrasts = [c for c in say.all_contrasts(d.tool) if c.ahead is not None]
    wins = [c for c in contrasts if c.ahead]
    losses = len(contrasts) - len(wins)
    if wins and len(wins) > losses:
        shown = "; ".join(c.text for c in wins[:2])
        return f"{d.tool.name} wins on most shared figures ({len(wins)} of {len(contrasts)}): {shown}."
    if wins:
        return (
            f"{d.tool.name} is ahead on {len(wins)} of {len(contrasts)} shared figures, behind on "
            f"the rest; where it wins: {wins[0].text}."
        )
    if not d.tool.rivals:
        return f"{d.tool.name} has no rival in our catalog yet to win against."
    known = d.known()
    strongest = f"; its strongest suit is {about(d, known[0])}" if known else ""
    rivals = say.join(d.tool.peers, "its rivals")
    return f"{d.tool.name} beats none of {rivals} on a shared figure{strongest}."


def skeptic_breaks(d: Draft) -> str:
    t, f = d.tool, d.tool.facts
    small = f.smallest_memory_gb()
    if small is not None and small > 24:
        return (
            f"{t.name} breaks on a workstation: even its smallest size needs {small:g} GB, "
            "past a single 24 GB consumer GPU."
        )
    if f.terms and f.license_kind in {"restricted", "proprietary"}:
        return f"{t.name} breaks when legal reads the terms: {f.terms.commercial_use.rstrip('.')}."
    losing = best_contrast(d, "cap:", ahead=False)
    if losing:
        return f"{t.name} breaks on the hard task its rival handles: {losing.text}."
    if f.self_hostable is False:
        return (
            f"{t.name} breaks the day {say.maker(t)} changes price or terms: it cannot be "
            f"self-hosted, and it costs {say.price(f) or 'an unpublished price'} today."
        )
    purpose = t.best_for.rstrip(". ")
    if not purpose:
        return f"{t.name} breaks where our evidence runs out: nothing on record says what would break it."
    purpose = purpose[:1].lower() + purpose[1:] if purpose[1:2].islower() else purpose
    return f"{t.name} breaks when the job drifts from what it is for: {purpose}."


def skeptic_kill_risk(d: Draft) -> str:
    rival, contrast = leading_rival(d)
    if rival:
        return f"What kills {d.tool.name} within 12 months is {rival} pulling further ahead: {contrast.text}."
    known = d.known()
    weakest = about(d, known[-1]) if known else "evidence that is still thin"
    return f"No rival beats {d.tool.name} on a shared figure; the risk is its weakest point, {weakest}."


def skeptic_wrong_if(d: Draft) -> str:
    missing = unknown_names(d)
    known = d.known()
    if d.verdict == "skip" and known:
        text = f"I am wrong about {d.tool.name} if {known[-1].label.lower()} stops mattering for your use"
    elif known:
        text = f"I am wrong about {d.tool.name} if its lead on {known[0].label.lower()} does not hold"
    else:
        text = f"I am wrong about {d.tool.name} if the facts we lack all come out well"
    return text + (f", or if what we do not know ({missing}) cuts the other way." if missing else ".")


# Futurist ------------------------------------------------------------------------------
def thesis_year(d: Draft) -> int:
    """Three years past the newest release in the whole catalog: a horizon that has not arrived."""
    years = d.tool.market.catalog.get("release_year", ())
    return int(max(years)) + 3 if years else 2028


def futurist_thesis(d: Draft) -> str:
    t, f, year = d.tool, d.tool.facts, thesis_year(d)
    small = f.smallest_memory_gb()
    if f.kind == "model" and small is not None and small <= 8:
        claim_ = (
            f"models that fit in {small:g} GB will handle most routine work on hardware teams "
            f"already own, and {t.name} is sized for that"
        )
    elif f.kind == "model" and f.open_weights:
        claim_ = (
            f"open weights at {f.parameters or 'its size'} will match hosted models on most "
            f"benchmarks, and {t.name} is the bet on that"
        )
    elif f.price and f.price.input_per_mtok is not None:
        claim_ = (
            f"a million tokens will cost a fraction of {t.name}'s "
            f"{say.money(f.price.input_per_mtok, f.price.currency)} input price today, and volume "
            "will decide the winners"
        )
    elif (a := f.adoption) and (a.users or a.stars):
        count = f"a published headcount of {a.users:,}" if a.users else f"{a.stars:,} GitHub stars"
        claim_ = (
            f"{t.category.lower()} will consolidate around two or three tools, and {t.name}, with "
            f"{count} (as of {(a.users_as_of or a.as_of).isoformat()}), is in that race"
        )
    elif figure := top_figure(t):
        claim_ = (
            f"the {t.category.lower()} with the best measured results will take the market, "
            f"and {t.name} enters with {figure}"
        )
    elif f.kind == "library":
        claim_ = (
            f"agent code will be assembled from a few open libraries, and {t.name} bets on being one of them"
        )
    elif f.open_source:
        claim_ = f"open tools like {t.name} will set the standard that closed ones copy"
    else:
        claim_ = (
            f"{t.category.lower()} will be bought where developers already work, and "
            f"{t.name} bets on {say.join(f.runtimes, 'its own surface')}"
        )
    return f"By {year}, {claim_}: by then {t.name} will have proved the bet or lost it."


def futurist_evidence(d: Draft) -> str:
    contrast = best_contrast(d, "cap:", ahead=None) or best_contrast(d, "release_year", ahead=None)
    a = d.tool.facts.adoption
    bits = [contrast.text] if contrast else []
    if a and a.stars:
        bits.append(f"{a.stars:,} GitHub stars as of {a.as_of.isoformat()}")
    elif a and a.usage:
        bits.append(a.usage.rstrip("."))
    if not bits:
        return f"The trend line for {d.tool.name} is not in our evidence yet: no dated figure to plot."
    return f"The trend line for {d.tool.name}: {'; '.join(bits)}."


def futurist_timing(d: Draft) -> str:
    year = d.tool.facts.release_year
    years = d.tool.market.category.get("release_year", ())
    if year is not None and len(years) < MIN_FIELD:
        return (
            f"Timing cannot be placed: {d.tool.name} came out in {year}, with too few rivals on "
            "record to compare."
        )
    if year is None or not years:
        return f"Timing cannot be placed: no release year is on record for {d.tool.name}."
    median = int(statistics.median(years))
    if year > median:
        return f"Early: {d.tool.name} came out in {year}, after most of its category (median year {median})."
    if year < median:
        return (
            f"Late only if it stops moving: {d.tool.name} came out in {year}, before most of its "
            f"category (median year {median})."
        )
    return f"On time: {d.tool.name} came out in {year}, with the bulk of its category."


def futurist_second_order(d: Draft) -> str:
    t, f = d.tool, d.tool.facts
    if f.open_weights or f.open_source:
        runs = say.join(f.runtimes, "the runtimes that adopt it")
        return (
            f"If {t.name} wins, fine-tunes and integrations multiply around it ({runs} today), "
            "and per-seat pricing around it loses its grip."
        )
    return (
        f"If {t.name} wins, everything built on it inherits {say.maker(t)}'s pricing "
        f"({say.price(f) or 'unpublished'}) and its outages."
    )


def futurist_infrastructure(d: Draft) -> str:
    known = d.known()
    if not known:
        return f"{d.tool.name} becomes infrastructure once there is evidence to judge it by."
    weakest, strongest = known[-1], known[0]
    return (
        f"{d.tool.name} becomes infrastructure when {weakest.label.lower()} stops holding it back "
        f"({claim(d, weakest.key)}); on {strongest.label.lower()} it is already there."
    )


# Founder -------------------------------------------------------------------------------
def founder_buyer(d: Draft) -> str:
    t, f = d.tool, d.tool.facts
    words = say.price(f)
    c = best_contrast(d, "seat", ahead=None) or best_contrast(d, "tokens", ahead=None)
    versus = f" ({c.text})" if c else ""
    if f.price and f.price.seat_monthly == 0:
        runs = say.memory(f)
        cost = f"hardware ({runs})" if runs else "hardware, hours or model tokens"
        text = f"Nobody needs to buy {t.name}: it is free to use, and whoever runs it pays in {cost}."
        if f.price.input_per_mtok is not None:
            text += f" {say.maker(t)} also sells it hosted: {c.text if c else money_pair(f)}."
        elif c:
            text += f" Against its nearest rivals: {c.text}."
        return text
    paid = f"{words or 'no price on record'}{versus}"
    if f.kind in {"api", "platform"}:
        return f"The buyer of {t.name} is an engineering team paying by use: {paid}."
    return f"The buyer of {t.name} is a developer or team lead paying per seat: {paid}."


def founder_value_capture(d: Draft) -> str:
    t, f = d.tool, d.tool.facts
    who = say.maker(t)
    if f.price and f.price.platform_fee_percent is not None:
        return f"{who} takes a {f.price.platform_fee_percent:g}% cut of what flows through {t.name}."
    if f.price and f.price.input_per_mtok is not None and (f.open_weights or f.open_source):
        return f"{who} gives {t.name} away and meters its own hosted {t.name} by the token: {money_pair(f)}."
    if f.price and f.price.input_per_mtok is not None:
        return (
            f"{who} meters {t.name} by the token ({money_pair(f)}), so its revenue grows with your traffic."
        )
    if f.price and f.price.seat_monthly:
        return f"{who} charges for {t.name} per seat, every month: {say.price(f)}."
    return (
        f"{who} gives {t.name} away and captures value around it: hosted offerings, support "
        f"and reputation under {say.licence(t)}."
    )


def founder_moat(d: Draft) -> str:
    t = d.tool
    durability = _durability(d)
    if t.facts.open_weights or t.facts.open_source:
        return (
            f"Little moat in {t.name}'s artefact, which anyone can fork; what it has is "
            f"adoption: {durability}."
        )
    return f"{t.name}'s moat is the closed product under {say.licence(t)}, plus adoption: {durability}."


def founder_risk(d: Draft) -> str:
    known = d.known()
    if not known:
        return f"The business risk in {d.tool.name} cannot be judged: the facts it needs are unknown."
    return f"The main business risk in {d.tool.name} is {about(d, known[-1])}."


def founder_worth_it_when(d: Draft) -> str:
    pick = d.decisive()
    text = verdict_line(d) + "."
    if d.score is None:
        return text
    if pick and d.verdict == "ship":
        text += f" {d.tool.name} is worth shipping now, on the strength of {about(d, pick)}."
    elif pick:
        text += f" {d.tool.name} is worth shipping once {pick.label.lower()} improves ({claim(d, pick.key)})."
    if missing := unknown_names(d):
        text += f" Not judged for {d.tool.name}, for want of facts: {missing}."
    return text


def write_custom(section: SectionSpec):
    """A section a publisher added: answer its question from the evidence we hold."""

    def write(d: Draft) -> str:
        known = d.known()
        best = f" Its strongest suit: {about(d, known[0])}." if known else ""
        return f'On "{section.question}": {verdict_line(d)}.{best}'

    return write


WRITERS = {
    "primitive": builder_primitive,
    "dx_bet": builder_dx_bet,
    "moment_of_truth": builder_moment,
    "decision": builder_decision,
    "category": skeptic_category,
    "wins": skeptic_wins,
    "breaks": skeptic_breaks,
    "kill_risk": skeptic_kill_risk,
    "wrong_if": skeptic_wrong_if,
    "thesis": futurist_thesis,
    "evidence": futurist_evidence,
    "timing": futurist_timing,
    "second_order": futurist_second_order,
    "infrastructure": futurist_infrastructure,
    "buyer": founder_buyer,
    "value_capture": founder_value_capture,
    "moat": founder_moat,
    "risk": founder_risk,
    "worth_it_when": founder_worth_it_when,
}
