"""Structured data for search engines: a tool as a schema.org SoftwareApplication.

Each persona's current review is a `Review` (its score a `Rating` on 0-100) and the panel's
mean an `aggregateRating`, for reviewed tools only; a persona that abstained has no score and
is left out of both. Prices come from the tool's numeric price evidence, never from its prose.
Every property used here is one schema.org defines for its type (tests/test_sharing.py holds
it to schema.org's own vocabulary files).
"""

import json

from django.utils.html import format_html
from django.utils.safestring import SafeString

from shiporskip.sharing.links import absolute

# Words that name an operating system among a tool's platforms and runtimes (which also list
# editors and frameworks: "VS Code" or "vLLM" is not an operating system).
SYSTEMS = ("macos", "windows", "linux", "ubuntu", "ios", "android", "chromeos")


def operating_systems(facts) -> list[str]:
    named = [*(facts.limits.platforms if facts.limits else []), *facts.runtimes]
    found = []
    for name in named:
        if name.lower().startswith(SYSTEMS) and name not in found:
            found.append(name)
    return found


def offers(facts) -> list[dict]:
    """An Offer per known numeric price: free tier, cheapest seat, tokens."""
    price = facts.price
    if price is None:
        return []
    found = []
    if price.free_tier:
        found.append({"@type": "Offer", "name": "Free tier", "price": 0, "priceCurrency": price.currency})
    if price.seat_monthly is not None:
        found.append(
            {
                "@type": "Offer",
                "name": f"{price.seat_plan or 'Seat'}, per seat per month",
                "price": price.seat_monthly,
                "priceCurrency": price.currency,
            }
        )
    for side, amount in (("input", price.input_per_mtok), ("output", price.output_per_mtok)):
        if amount is not None:
            found.append(
                {
                    "@type": "Offer",
                    "name": f"{price.token_model}, {side} tokens",
                    "priceSpecification": {
                        "@type": "UnitPriceSpecification",
                        "price": amount,
                        "priceCurrency": price.currency,
                        "unitText": f"1M {side} tokens",
                    },
                }
            )
    return found


def software_application(tool, reviews) -> dict:
    """The tool with its panel's current reviews (personas selected), as a JSON-LD object."""
    facts = tool.parsed_facts
    data = {
        "@context": "https://schema.org",
        "@type": "SoftwareApplication",
        "name": tool.name,
        "url": absolute(tool.get_absolute_url()),
        # Google reads this as the kind of app; every tool here is one developers build with.
        "applicationCategory": "DeveloperApplication",
        "applicationSubCategory": tool.category.name,
    }
    if tool.description:
        data["description"] = tool.description
    if systems := operating_systems(facts):
        data["operatingSystem"] = ", ".join(systems)
    if found := offers(facts):
        data["offers"] = found
    scored = [r for r in reviews if r.score is not None]
    if scored:
        data["review"] = [review(r) for r in scored]
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": round(sum(r.score for r in scored) / len(scored), 1),
            "reviewCount": len(scored),
            "bestRating": 100,
            "worstRating": 0,
        }
    return data


def review(r) -> dict:
    data = {
        "@type": "Review",
        "author": {
            "@type": "Organization",
            "name": f"{r.persona.name} (Ship or Skip panel)",
            "url": absolute(r.persona.get_absolute_url()),
        },
        "reviewRating": {"@type": "Rating", "ratingValue": r.score, "bestRating": 100, "worstRating": 0},
        "datePublished": r.created_at.date().isoformat(),
    }
    if summary := r.summary:
        data["reviewBody"] = summary
    return data


# What ends a <script> data block or starts a comment in it: escaped as JSON allows, so any
# text a tool's name or a review holds stays inside the block (as Django's json_script does);
# and the quote, so that no text ends an attribute either, wherever the block were pasted.
ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026", ord("'"): "\\u0027"}


def script(data: dict) -> SafeString:
    """A `<script type="application/ld+json">` data block (not run, so the CSP allows it)."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":")).translate(ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', SafeString(text))
