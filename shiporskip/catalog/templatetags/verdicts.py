"""`{% verdict tally %}` and `|whole`: what every list writes once per row, in Python.

A list of 50 tools wrote the panel's verdict badge 50 times as a template include with a
`with` and two filters, and each row's mean score through `floatformat:0`: about 50 and 24 µs a
row, a sixth of a search page's render at 10,000 tools. The output is what the template
wrote (tests/test_verdict_tags.py compares them), less the newline the badge's file ended with,
which put a space between a badge and the full stop after it.
"""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()
ONE = Decimal(1)


@register.simple_tag
def verdict(tally) -> SafeString:
    """The panel's verdict badge: `<span class="verdict verdict-ship">Ship · 3 ship / 1 skip</span>`
    (`verdict-none` before any review)."""
    kind = (tally.verdict or "none").lower()
    return format_html('<span class="verdict verdict-{}">{}</span>', kind, tally.label)


@register.filter(is_safe=True)
def whole(value) -> str:
    """A number rounded to a whole one as `floatformat:0` writes it (half up, no "-0"), without
    its localization machinery, which this site does not use for scores; "" for no number."""
    try:
        number = Decimal(repr(float(value)))
    except (TypeError, ValueError):
        return ""
    if not number.is_finite():
        return str(float(value))
    return str(int(number.quantize(ONE, rounding=ROUND_HALF_UP)))
