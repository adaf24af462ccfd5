"""The embeddable SVG badge: a tool's panel verdict, for its makers' READMEs and sites.

Served to other sites' pages, so it stands alone: no script, no external fetch, its own
strict Content-Security-Policy (an SVG opened directly is a document that could run script),
and an ETag over its bytes so it updates as soon as the verdict does and is 304 until then.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import conditional_page, require_safe

from shiporskip.catalog.models import Tool
from shiporskip.pages import panel_only, public
from shiporskip.sharing.links import absolute

LABEL = "Ship or Skip"
# Shields-like: a grey label, the value coloured by the verdict; every pair meets WCAG AA.
THEMES = {
    "light": {
        "label": "#555",
        "text": "#fff",
        "Ship": "#1b7a3d",
        "Skip": "#b3261e",
        "Split": "#8a5a00",
        None: "#5f6571",
    },
    "dark": {
        "label": "#161b22",
        "text": "#e6edf3",
        "Ship": "#196c2e",
        "Skip": "#8e1519",
        "Split": "#6b4500",
        None: "#30363d",
        "border": "#3d444d",
    },
}
STYLES = ("count", "score")
# Verdana 11px advance widths (what shields measures with), near enough for the few strings
# a badge shows; textLength then fits the text to the box in whatever font the reader has.
NARROW, MEDIUM, WIDE = set("ilj.,:;'!|I"), set("frt ·/()-"), set("mwMW")
BADGE_CSP = "default-src 'none'"


def text_width(text: str) -> float:
    width = 0.0
    for char in text:
        if char in NARROW:
            width += 3.1
        elif char in MEDIUM:
            width += 4.4
        elif char in WIDE:
            width += 10.4
        elif char.isupper():
            width += 7.6
        else:
            width += 6.9
    return round(width, 1)


def badge_value(tool, style: str) -> tuple[str, str | None, str]:
    """The value text, the verdict that colours it, and the longer words for <title>."""
    panel = tool.panel
    if not tool.current_run_id:
        return "No verdict yet", None, "no verdict yet"
    if not panel.total:
        return "No verdict", None, "no verdict (every reviewer abstained)"
    counts = f"{panel.ship} ship / {panel.skip} skip"
    if style == "score" and tool.panel_score is not None:
        score = round(tool.panel_score)
        words = f"{panel.verdict}, panel score {score}/100 ({counts})"
        return f"{panel.verdict} · {score}/100", panel.verdict, words
    return panel.short_label, panel.verdict, f"{panel.verdict} · {counts}"


def render_badge(tool, theme: str, style: str) -> str:
    value, verdict, words = badge_value(tool, style)
    colours = THEMES[theme]
    label_w, value_w = round(text_width(LABEL) + 12), round(text_width(value) + 12)
    # Numbers as plain strings: the template must not localise a decimal point into a comma.
    return render_to_string(
        "feeds/badge.svg",
        {
            "title": f"{tool.name} on {LABEL}: {words}",
            "value": value,
            "label": LABEL,
            "c": colours,
            "fill": colours[verdict],
            "width": str(label_w + value_w),
            "label_w": str(label_w),
            "value_w": str(value_w),
            "label_x": f"{label_w / 2:g}",
            "value_x": f"{label_w + value_w / 2:g}",
            "label_len": str(label_w - 12),
            "value_len": str(value_w - 12),
        },
    )


def refuse(message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=400, content_type="text/plain; charset=utf-8")


@require_safe
@conditional_page
@public(shows=panel_only)
def badge(request, slug):
    theme, style = request.GET.get("theme", "light"), request.GET.get("style", "count")
    if theme not in THEMES:
        return refuse(f"theme must be one of {', '.join(THEMES)}, not {theme[:40]!r}.")
    if style not in STYLES:
        return refuse(f"style must be one of {', '.join(STYLES)}, not {style[:40]!r}.")
    tool = get_object_or_404(Tool.objects.with_panel().with_score(), slug=slug)
    response = HttpResponse(render_badge(tool, theme, style), content_type="image/svg+xml")
    response["Content-Security-Policy"] = BADGE_CSP  # set here, so the site's policy is not
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # made to be shown on other sites
    return response


def embed_urls(tool) -> dict:
    """The absolute addresses an embed snippet points at: the badge and the tool's page."""
    badge = reverse("feeds:badge", args=[tool.slug])
    return {
        "badge": absolute(badge),
        "dark": absolute(badge, theme="dark"),
        "page": absolute(tool.get_absolute_url()),
    }
