"""{% slug_url %}: a tool's vote and bookmark addresses, written on each of a page's cards."""

from django import template

from shiporskip import links

register = template.Library()


@register.simple_tag
def slug_url(view: str, slug: str) -> str:
    """{% url view slug %} for a view whose one argument is a slug, without reverse() per card
    (shiporskip/links.py): the home page writes 24 of them."""
    return links.slug_url(view, slug)
