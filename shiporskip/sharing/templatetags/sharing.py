"""Canonical links, Open Graph and Twitter card tags, and JSON-LD for the page templates."""

from django import template

from shiporskip.sharing import cards, jsonld
from shiporskip.sharing.links import absolute

register = template.Library()

SITE_TITLE = "Which AI tool should you ship?"
SITE_DESCRIPTION = "A panel of AI reviewers tells you which AI tool to ship with."


def page_path(context) -> str:
    # An error page may be rendered without the request (Django's own 500 handler): the home.
    request = context.get("request")
    return request.path if request is not None else "/"


@register.simple_tag(takes_context=True)
def canonical_url(context, path=None):
    """The page's one public address: SITE_URL and the path, without the query."""
    return absolute(path or page_path(context))


@register.inclusion_tag("partials/share_meta.html", takes_context=True)
def share_meta(context, tool=None, reviews=None, comparison=None, category=None, persona=None):
    """Open Graph and Twitter card tags for the page: words and social card by what it shows."""
    title, description, kind = SITE_TITLE, SITE_DESCRIPTION, "website"
    card, image = cards.SITE_CARD, cards.site_image_url()
    if comparison is not None:
        card, image = cards.pair_card(comparison), cards.pair_image_url(comparison)
        title, kind = f"{comparison.title}: which AI tool should you ship?", "article"
        description = (
            "The panel's verdicts side by side: " + "; ".join(verdict_words(s) for s in card.sides) + "."
        )
    elif tool is not None:
        reviews = list(reviews or [])
        card, image = cards.tool_card(tool, reviews), cards.tool_image_url(tool, reviews)
        title, kind = f"{tool.name}: ship or skip?", "article"
        description = " ".join(x for x in (verdict_words(card.sides[0]) + ".", tool.best_for) if x)
    elif category is not None:
        title = f"{category.name}: AI tools ranked by the panel"
        description = category.description or f"Every {category.name} tool the panel reviewed."
    elif persona is not None:
        title = f"{persona.name}, {persona.lens.lower()}: Ship or Skip's panel"
        description = f"“{persona.motto}” Ships at {persona.ship_threshold}/100 or above."
    return {
        "title": title,
        "description": description,
        "url": absolute(page_path(context)),
        "kind": kind,
        "image": image,
        "image_alt": card.alt,
        "width": cards.WIDTH,
        "height": cards.HEIGHT,
    }


def verdict_words(side) -> str:
    if side.mean is None:
        return f"{side.name}: {side.label.lower()}"
    return f"{side.name}: {side.label}, mean score {side.mean}/100"


@register.simple_tag
def tool_jsonld(tool, reviews):
    return jsonld.script(jsonld.software_application(tool, list(reviews)))
