"""`{% pick_options choices selected %}`: the compare picker's <option> list, built in one pass.

The picker carries up to PICKER_TOOLS options twice; as a template loop those 600 iterations
were a third of the home page's render at 10,000 tools. The output is byte for byte what the
loop wrote: html.escape is what Django's autoescape applies.
"""

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def pick_options(choices, selected) -> SafeString:
    chosen = str(selected) if selected is not None else None
    options = []
    for slug, name in choices:
        mark = " selected" if slug == chosen else ""
        options.append(f'<option value="{escape(str(slug))}"{mark}>{escape(str(name))}</option>')
    return mark_safe("".join(options))  # noqa: S308 - every value above is escaped
