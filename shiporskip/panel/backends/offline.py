"""The offline reviewer: deterministic reviews from a tool's facts alone, no model needed.

Scores are weighted means of facts-based criterion scorers; sections are written from fact
phrases in each persona's structure. The same tool, facts and persona give the same review.
"""

import json
from dataclasses import dataclass

from shiporskip.panel.backends import offline_scores as scores
from shiporskip.panel.backends import offline_text as say
from shiporskip.panel.backends.base import (
    Reviewer,
    ReviewReply,
    ReviewRequest,
    ReviewResult,
    ToolSnapshot,
)

# Bump when the scoring or writing changes, so stored reviews say which rules made them.
RULES_VERSION = "offline-1"


@dataclass(frozen=True)
class Draft:
    tool: ToolSnapshot
    persona: dict
    subscores: dict[str, int]
    score: int
    verdict: str

    def ranked(self) -> list[dict]:
        """The persona's criteria, strongest first (ties keep the persona's order)."""
        return sorted(self.persona["criteria"], key=lambda c: -self.subscores[c["key"]])

    def strongest(self) -> dict:
        return self.ranked()[0]

    def weakest(self) -> dict:
        return self.ranked()[-1]

    def about(self, criterion: dict) -> str:
        key = criterion["key"]
        return f"{criterion['label'].lower()} ({self.subscores[key]}/100: {say.claim(key, self.tool)})"

    @property
    def years(self) -> int | None:
        f = self.tool.facts
        return None if f.release_year is None else f.facts_as_of.year - f.release_year


class OfflineReviewer(Reviewer):
    provider = "offline"
    max_concurrency = 4

    @property
    def name(self) -> str:
        return "offline"

    def review(self, request: ReviewRequest) -> ReviewResult:
        persona, tool = request.persona, request.tool
        subscores = {c["key"]: scores.score_criterion(c["key"], tool.facts)
                     for c in persona["criteria"]}
        score = scores.weighted_score(persona["criteria"], subscores)
        verdict = "ship" if score >= persona["ship_threshold"] else "skip"
        draft = Draft(tool, persona, subscores, score, verdict)
        sections = {s["key"]: write_section(s, draft) for s in persona["sections"]}
        reply = ReviewReply(score=score, verdict=verdict, criteria=subscores, sections=sections)
        return ReviewResult(reply=reply, model="offline", raw=json.dumps(reply.model_dump()))


def write_section(section: dict, d: Draft) -> str:
    writer = WRITERS.get(section["key"])
    if writer:
        return writer(d)
    # A section a publisher added: answer its question from the facts we hold.
    return (f"{section['question']} From the facts: {d.tool.name} is {say.primitive(d.tool)}, "
            f"{say.released(d.tool)}, under {say.licence(d.tool)}; {d.verdict} at {d.score}/100.")


# Builder -------------------------------------------------------------------------------
def builder_primitive(d: Draft) -> str:
    t = d.tool
    return (f"{t.name} is {say.primitive(t)} from {say.maker(t)}, under {say.licence(t)}. "
            f"It runs on {say.runtimes(t)}.")


def builder_dx_bet(d: Draft) -> str:
    f, t = d.tool.facts, d.tool
    if f.self_hostable and not f.api_available:
        return (f"The bet is that developers want to run it themselves: it is self-hostable, "
                f"with no vendor API on record. Pricing: {say.price(t)}.")
    if f.api_available:
        return (f"The bet is API-first: you call it from code rather than adopt a whole "
                f"product. Pricing: {say.price(t)}.")
    return (f"The bet is on the product itself, {say.primitive(t)}, being where the work "
            f"happens. Pricing: {say.price(t)}.")


def builder_moment(d: Draft) -> str:
    f, t = d.tool.facts, d.tool
    first = {"model": f"load the weights in {f.runtimes[0] if f.runtimes else 'a runtime'} "
                      "and run a real prompt on your own hardware",
             "app": "install it and point it at an existing project",
             "api": "call it from a script with your own key",
             "library": "install it and wire it into an existing codebase",
             "platform": "sign up and run a first real workload"}[f.kind]
    size = f.max_parameters_billions()
    if size is None:
        fit = "The facts do not say what hardware it needs; check before you commit."
    elif size <= 25:
        fit = f"At {f.parameters} it fits a single consumer GPU, so that first task survives."
    else:
        fit = f"At {f.parameters} the largest size needs serious GPU memory; budget for it."
    return f"First real task: {first}. {fit} Best for, per {say.maker(t)}: {say.best_for(t)}."


def builder_decision(d: Draft) -> str:
    pick = d.strongest() if d.verdict == "ship" else d.weakest()
    return (f"{d.verdict.capitalize()} at {d.score}/100 against a bar of "
            f"{d.persona['ship_threshold']}. The deciding factor is {d.about(pick)}.")


# Skeptic -------------------------------------------------------------------------------
def skeptic_category(d: Draft) -> str:
    return (f"{d.tool.name} sits in {d.tool.category}. Direct rivals in our catalog: "
            f"{say.peers(d.tool)}.")


def skeptic_wins(d: Draft) -> str:
    return f"Where it wins: {d.about(d.strongest())}."


def skeptic_breaks(d: Draft) -> str:
    f, t = d.tool.facts, d.tool
    if f.license_kind in {"restricted", "proprietary"}:
        return (f"It breaks when legal reads the terms: {say.licence(t)}. Some commercial "
                "uses will need a review first.")
    if f.self_hostable is False:
        return (f"It breaks the day {say.maker(t)}'s service is down or changes its terms: "
                "it cannot be self-hosted.")
    size = f.max_parameters_billions()
    if size and size > 25:
        return f"It breaks on a laptop: the largest size ({f.parameters}) needs datacentre GPUs."
    return f"It breaks when the job drifts from what it is best for: {say.best_for(t)}."


def skeptic_kill_risk(d: Draft) -> str:
    return (f"The likeliest killer within 12 months is its weakest point, "
            f"{d.about(d.weakest())}, if {say.peers(d.tool)} close the gap on it.")


def skeptic_wrong_if(d: Draft) -> str:
    missing = [n.replace("_", " ") for n in scores.OPTIONAL_FACTS
               if getattr(d.tool.facts, n) is None]
    gaps = f" and the facts we lack ({say.join(missing)}) check out" if missing else ""
    return (f"I am wrong if its weakest point, {d.weakest()['label'].lower()}, turns out not "
            f"to matter for your use{gaps}.")


# Futurist ------------------------------------------------------------------------------
THESES = {
    "model": "most teams will run open-weight models for routine work on hardware they own",
    "api": "model access will be a metered commodity, bought per token from a few endpoints",
    "app": "most code and documents will be drafted by an assistant where the work happens",
    "library": "LLM applications will be assembled from open libraries, not written from scratch",
    "platform": "AI workloads will run on managed platforms the way web apps run on clouds",
}


def futurist_thesis(d: Draft) -> str:
    f = d.tool.facts
    return (f"By {f.facts_as_of.year + 2}, {THESES[f.kind]}. {d.tool.name} is a bet on that, "
            "and the bet is falsifiable by then.")


def futurist_evidence(d: Draft) -> str:
    t = d.tool
    return (f"Evidence on record: {say.released(t)}; {say.context(t)}; runs on "
            f"{say.runtimes(t)}; ships as {say.primitive(t)}.")


def futurist_timing(d: Draft) -> str:
    years = d.years
    if years is None:
        return "Timing cannot be placed: the facts give no release year."
    if years <= 0:
        return f"Early: it was released in {d.tool.facts.release_year}, the year of these facts."
    if years <= 2:
        return f"On time: released in {d.tool.facts.release_year}, as the trend took hold."
    return (f"Established since {d.tool.facts.release_year}: late only if it stops moving "
            "with the trend.")


def futurist_second_order(d: Draft) -> str:
    f = d.tool.facts
    if f.open_weights or f.open_source:
        return ("If it succeeds, derivatives and integrations multiply around it "
                f"({say.runtimes(d.tool)} today), and per-seat lock-in loses its hold.")
    return ("If it succeeds, whatever is built on it inherits its pricing, its limits and "
            f"its outages: {say.price(d.tool)}.")


def futurist_infrastructure(d: Draft) -> str:
    return (f"It becomes infrastructure when its weakest point, {d.about(d.weakest())}, stops "
            f"holding it back; on the strongest, {d.strongest()['label'].lower()}, it is "
            "already there.")


# Founder -------------------------------------------------------------------------------
def founder_buyer(d: Draft) -> str:
    f, t = d.tool.facts, d.tool
    if f.pricing_model == "free":
        return (f"No one buys it: it is free ({say.price(t)}). The payer is whoever runs "
                "it, in hardware and people.")
    if f.pricing_model in {"subscription", "freemium"}:
        return f"The buyer is the developer or their team lead, paying per seat: {say.price(t)}."
    if f.pricing_model == "usage":
        return f"The buyer is the engineering team, paying by usage: {say.price(t)}."
    if f.pricing_model == "enterprise":
        return f"The buyer is procurement, on an enterprise contract: {say.price(t)}."
    return f"The facts do not say who pays. Pricing on record: {say.price(t)}."


def founder_value_capture(d: Draft) -> str:
    f, who = d.tool.facts, say.maker(d.tool)
    capture = {
        "free": f"{who} captures value indirectly (ecosystem, hosted offerings, reputation), "
                "not through licence fees",
        "freemium": f"{who} converts a free tier into paid plans",
        "subscription": f"{who} charges per seat, every month",
        "usage": f"{who} meters usage, so revenue grows with your traffic",
        "enterprise": f"{who} sells contracts",
    }.get(f.pricing_model, f"how {who} charges is not on record")
    return capture[0].upper() + capture[1:] + "."


def founder_moat(d: Draft) -> str:
    f = d.tool.facts
    if f.open_weights or f.open_source:
        return (f"Little moat in the artefact itself: it ships as {say.primitive(d.tool)}. "
                f"The moat is the ecosystem around it ({say.runtimes(d.tool)}).")
    return (f"The moat is the closed product under {say.licence(d.tool)}; building on it "
            "means borrowing someone else's.")


def founder_risk(d: Draft) -> str:
    return f"The main business risk is {d.about(d.weakest())}."


def founder_worth_it_when(d: Draft) -> str:
    if d.verdict == "ship":
        return (f"Ship at {d.score}/100: worth it now for its stated use ({say.best_for(d.tool)}), "
                f"on the strength of {d.about(d.strongest())}.")
    return (f"Skip at {d.score}/100 for now: worth shipping once {d.weakest()['label'].lower()} "
            f"is settled for your case ({say.claim(d.weakest()['key'], d.tool)}).")


WRITERS = {
    "primitive": builder_primitive, "dx_bet": builder_dx_bet,
    "moment_of_truth": builder_moment, "decision": builder_decision,
    "category": skeptic_category, "wins": skeptic_wins, "breaks": skeptic_breaks,
    "kill_risk": skeptic_kill_risk, "wrong_if": skeptic_wrong_if,
    "thesis": futurist_thesis, "evidence": futurist_evidence, "timing": futurist_timing,
    "second_order": futurist_second_order, "infrastructure": futurist_infrastructure,
    "buyer": founder_buyer, "value_capture": founder_value_capture, "moat": founder_moat,
    "risk": founder_risk, "worth_it_when": founder_worth_it_when,
}
