import re

from django.shortcuts import redirect, render

from shiporskip.catalog.models import Tool
from shiporskip.compare import comparison
from shiporskip.pages import public, two_tools

SLUG = re.compile(r"[-a-zA-Z0-9_]+")
SAME_TOOL = "Pick two different tools: a tool compared with itself is always a tie."


def not_found(request, message):
    choices = Tool.objects.picker_choices()
    return render(request, "compare/not_found.html", {"message": message, "choices": choices}, status=404)


def pick(request):
    """The compare picker's target: works without JavaScript as a plain GET form."""
    a, b = request.GET.get("a", "").strip(), request.GET.get("b", "").strip()
    if not a or not b:
        return not_found(request, "Choose two tools to compare.")
    if a == b:
        return not_found(request, SAME_TOOL)
    if bad := [s for s in (a, b) if not SLUG.fullmatch(s)]:  # never let junk (or NUL) reach a query
        return not_found(request, f"We have no tool called “{bad[0]}” in the catalog.")
    known = set(Tool.objects.filter(slug__in=[a, b]).values_list("slug", flat=True))
    if unknown := [s for s in (a, b) if s not in known]:
        return not_found(request, f"We have no tool called “{unknown[0]}” in the catalog.")
    return redirect(comparison.compare_url(a, b))


@public(shows=two_tools)
def pair(request, pair):
    pieces = pair.split("-vs-")
    # No two real slugs hold that many "-vs-", or anything but slug characters: refuse before any query.
    if len(pieces) > 5 or not SLUG.fullmatch(pair):
        return not_found(request, "A comparison address looks like /compare/a-vs-b.")
    # Only the ways to cut the pair in two can name tools: look up just those slugs.
    halves = {"-vs-".join(part) for i in range(1, len(pieces)) for part in (pieces[:i], pieces[i:])}
    known = set(Tool.objects.filter(slug__in=halves).values_list("slug", flat=True))
    slugs = comparison.split_pair(pair, known)
    if slugs is None:
        return not_found(request, "A comparison address looks like /compare/a-vs-b.")
    a, b = slugs
    if a == b:
        return not_found(request, SAME_TOOL)
    if bad := [s for s in (a, b) if not SLUG.fullmatch(s)]:  # never let junk (or NUL) reach a query
        return not_found(request, f"We have no tool called “{bad[0]}” in the catalog.")
    unknown = [s for s in (a, b) if s not in known]
    if unknown:
        return not_found(request, f"We have no tool called “{unknown[0]}” in the catalog.")
    if (a, b) != comparison.canonical_pair(a, b):
        return redirect(comparison.compare_url(a, b), permanent=True)
    return render(request, "compare/pair.html", {"c": comparison.load(a, b)})
