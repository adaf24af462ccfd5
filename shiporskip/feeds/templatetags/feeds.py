"""`{% embed_badge tool %}`: the tool page's "Embed this verdict" box, without touching its view."""

from django import template
from django.urls import reverse
from django.utils.html import escape

from shiporskip.feeds.badges import embed_urls

register = template.Library()


def markdown_text(text: str) -> str:
    """Text safe inside Markdown's [...]: brackets and backslashes escaped."""
    return "".join("\\" + c if c in "\\[]" else c for c in text)


@register.inclusion_tag("feeds/embed.html")
def embed_badge(tool):
    urls = embed_urls(tool)
    alt = f"{tool.name} on Ship or Skip"
    # Plain strings: the template escapes them once more, so the box shows this source as text.
    html = f'<a href="{urls["page"]}"><img src="{urls["badge"]}" alt="{escape(alt)}"></a>'
    markdown = f"[![{markdown_text(alt)}]({urls['badge']})]({urls['page']})"
    # The preview on this page loads from this site, whatever its public address.
    preview = reverse("feeds:badge", args=[tool.slug])
    return {"tool": tool, "preview": preview, "alt": alt, "html": html, "markdown": markdown}
