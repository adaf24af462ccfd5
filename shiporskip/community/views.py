"""Votes, bookmarks and the per-reader state that cached pages fetch after loading."""

import re
from contextlib import nullcontext
from urllib.parse import urlencode

from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from shiporskip.catalog.models import Tool, tool_for_write
from shiporskip.catalog.tallies import CommunityTally
from shiporskip.community import ratelimit, writes
from shiporskip.community.answers import answer, is_htmx, next_url, wants_json
from shiporskip.community.models import Bookmark, Vote, bookmark_write, own_marks, vote_write
from shiporskip.community.voters import forget_new_voter, voter_for
from shiporskip.links import slug_url

SLUG = re.compile(r"[-a-zA-Z0-9_]+")
VERDICTS = {"ship", "skip", "none"}
BAD_VERDICT = "verdict must be ship, skip or none (none takes your vote back)."
BAD_BOOKMARK = "bookmarked must be 1 (bookmark), 0 (remove) or left out (toggle)."


def refuse(request, status: int, message: str, *, context: dict, action: str = "", **kwargs):
    """Answer a write that changed nothing, in the form the caller asked for."""
    response = answer(
        request, status=status, payload={"error": message}, context={**context, "error": message}, **kwargs
    )
    if status == 429:
        response["Retry-After"] = str(ratelimit.retry_after(action))
    return response


def tally_of(tool) -> CommunityTally:
    ship, skip = Vote.objects.tally_for(tool)
    return CommunityTally(ship=ship, skip=skip)


def tool_for(request, slug):
    """The tool a vote or bookmark is about: for a write, only the fields its answer shows."""
    if request.method != "POST":
        return get_object_or_404(Tool, slug=slug)
    if tool := Tool.objects.by_slug_for_write(slug):
        return tool
    raise Http404("No tool by that name.")


def written_tool(request, write, slug: str):
    """The tool a write named by its slug, from the write's own read of it (`Write.rows`); read
    here only when a rate limit counted in Redis stopped the write before it ran. No such
    tool: 404, and the voter id this request gave a new reader is dropped, so that the request
    stores nothing."""
    if write.rows is None:
        tool = Tool.objects.by_slug_for_write(slug)
    else:
        tool = tool_for_write(write.rows[0] if write.rows else None)
    if tool is None:
        forget_new_voter(request)
        raise Http404("No tool by that name.")
    return tool


def vote_context(tool, voter, back, **extra) -> dict:
    """What the vote widget shows a reader: their vote and the current tally."""
    mine = Vote.objects.filter(tool=tool, voter=voter).values_list("verdict", flat=True).first()
    return {"tool": tool, "live": True, "next": back, "mine": mine, "tally": tally_of(tool), **extra}


def confirm_page(tool, voter, back, view: str, **extra) -> dict:
    """The no-JavaScript page for a vote or a bookmark: the reader's own vote and bookmark.

    Cached pages cannot show them, so this page does, and its forms come back to it (`after`)
    rather than to the cached page: the reader sees what they chose, with "Take back".
    """
    after = f"{reverse(view, args=[tool.slug])}?{urlencode({'next': back})}"
    saved = bool(voter) and Bookmark.objects.filter(tool=tool, owner=voter).exists()
    return vote_context(tool, voter, back, saved=saved, after=after, **extra)


@never_cache
@require_http_methods(["GET", "POST"])
def vote(request, slug):
    if request.method == "GET":  # the no-JavaScript way in from a cached page: confirm, then POST
        tool = tool_for(request, slug)
        proposed = request.GET.get("verdict")
        context = confirm_page(
            tool,
            voter_for(request, create=False),
            next_url(request, tool.get_absolute_url()),
            "community:vote",
            proposed=proposed if proposed in VERDICTS else None,
        )
        return render(request, "community/vote.html", context)
    back = next_url(request, slug_url("catalog:tool", slug))  # the write finds the tool itself
    kwargs = {"fragment": "community/vote_widget.html", "back": back}
    verdict = request.POST.get("verdict", "")
    if verdict not in VERDICTS:  # checked before a session is made: bad input leaves no trace
        context = vote_context(tool_for(request, slug), voter_for(request, create=False), back)
        return refuse(request, 400, BAD_VERDICT, context=context, **kwargs)
    voter = voter_for(request)
    cast = vote_write(slug, voter=voter, verdict=verdict)
    message = ratelimit.check(request, "vote", then=cast)  # the counters and the vote: one commit
    tool = written_tool(request, cast, slug)  # an unknown tool: 404
    if message:
        context = vote_context(tool, voter, back)
        return refuse(request, 429, message, context=context, action="vote", **kwargs)
    ship, skip = cast.rows[0][3:]  # the tally the vote made (no votes row yet: NULLs)
    tally = CommunityTally(ship=ship or 0, skip=skip or 0)
    mine = None if verdict == "none" else verdict
    return answer(
        request,
        context={"tool": tool, "live": True, "next": back, "mine": mine, "tally": tally},
        payload={"tool": tool.slug, "your_vote": mine, "community": tally.as_dict()},
        event={"vote-changed": {"tool": tool.slug, "label": tally.label}},
        **kwargs,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def bookmark(request, slug):
    if request.method == "GET":
        tool = tool_for(request, slug)
        owner = voter_for(request, create=False)  # no session for a look
        back = next_url(request, tool.get_absolute_url())
        return render(
            request, "community/bookmark.html", confirm_page(tool, owner, back, "community:bookmark")
        )
    back = next_url(request, slug_url("catalog:tool", slug))  # the write finds the tool itself
    kwargs = {"fragment": "community/bookmark_button.html", "back": back}
    wanted = request.POST.get("bookmarked")

    def context(tool, owner) -> dict:  # read only when an answer shows it: a set or unset never needs it
        saved = bool(owner) and Bookmark.objects.filter(tool=tool, owner=owner).exists()
        return {"tool": tool, "live": True, "next": back, "saved": saved}

    if wanted not in {None, "", "0", "1"}:  # no session for a bad request
        tool = tool_for(request, slug)
        return refuse(
            request, 400, BAD_BOOKMARK, context=context(tool, voter_for(request, create=False)), **kwargs
        )
    toggle = wanted in {None, ""}
    # A toggle reads the bookmark first, so it looks its tool up first: before a session is made.
    tool = tool_for(request, slug) if toggle else None
    owner = voter_for(request)
    with writes.write() if toggle else nullcontext():  # a toggle's read and write: one transaction
        on = not context(tool, owner)["saved"] if toggle else wanted == "1"
        write = bookmark_write(slug, owner=owner, on=on)
        # The rate counters and the bookmark: one commit.
        message = ratelimit.check(request, "bookmark", then=write)
    tool = written_tool(request, write, slug)  # an unknown tool: 404
    if message:
        return refuse(request, 429, message, context=context(tool, owner), action="bookmark", **kwargs)
    return answer(
        request,
        context={"tool": tool, "live": True, "next": back, "saved": on},
        payload={"tool": tool.slug, "bookmarked": on},
        event={"bookmarks-changed": {"tool": tool.slug, "bookmarked": on}},
        **kwargs,
    )


@never_cache
@require_GET
def me(request):
    """What differs per reader on the page: their votes, bookmarks, name and a CSRF token."""
    slugs = [s for s in request.GET.get("tools", "").split(",") if SLUG.fullmatch(s)][:200]
    voter = voter_for(request, create=False)  # reading creates no session
    votes, bookmarked = own_marks(voter, slugs) if voter else ({}, [])
    return JsonResponse(
        {
            "csrf": get_token(request),
            "user": request.user.get_username() if request.user.is_authenticated else None,
            "votes": votes,
            "bookmarked": bookmarked,
        }
    )


def bookmarked_tools(request):
    owner = voter_for(request, create=False)
    if not owner:
        return Tool.objects.none()
    return Tool.objects.with_tallies().filter(bookmarks__owner=owner).order_by("-bookmarks__created_at")


@never_cache
@require_GET
def bookmarks(request):
    return render(request, "community/bookmarks.html", {"tools": bookmarked_tools(request)})


@never_cache
@require_GET
def bookmarks_panel(request):
    tools = list(bookmarked_tools(request)[:9])
    return render(
        request, "community/bookmarks_panel.html", {"tools": tools[:8], "more": len(tools) > 8, "live": True}
    )


def csrf_failure(request, reason=""):
    message = (
        "This form has expired or came from another site, so nothing was changed. "
        "Go back, reload the page and try again."
    )
    if is_htmx(request):  # swapped into the widget: a line, not a page
        return render(request, "community/error_line.html", {"error": message}, status=403)
    if wants_json(request):
        return JsonResponse({"error": message}, status=403)
    return render(request, "community/problem.html", {"error": message, "back": "/"}, status=403)
