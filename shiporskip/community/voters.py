"""Who is voting: an account, or an anonymous browser known by a random id in its session.

The anonymous id lives in the session's data, not in its key: Django changes the key at
sign-in but keeps the data, so the sign-in handler can still find what the visitor did.
"""

import secrets
from typing import Literal, overload

from django.db import transaction

from shiporskip.community.models import Bookmark, Vote

ANON_KEY = "voter"


# With `create` (the default) there is always an id: the overloads let callers rely on it.
@overload
def voter_for(request, *, create: Literal[True] = True) -> str: ...
@overload
def voter_for(request, *, create: bool) -> str | None: ...
def voter_for(request, *, create: bool = True) -> str | None:
    """Return the request's voter id, giving an anonymous browser one if asked to."""
    if request.user.is_authenticated:
        return f"u:{request.user.pk}"
    anon = request.session.get(ANON_KEY)
    if not anon and create:
        anon = request.session[ANON_KEY] = secrets.token_hex(16)
        request.shiporskip_new_voter = True  # forget_new_voter: made by this request
    return f"a:{anon}" if anon else None


def forget_new_voter(request) -> None:
    """Drop the anonymous id voter_for gave the browser in this request, if it did: a request
    that stores nothing (its tool did not exist) leaves no session behind either."""
    if getattr(request, "shiporskip_new_voter", False):
        request.session.pop(ANON_KEY, None)
        request.shiporskip_new_voter = False


def merge_on_sign_in(sender, request, user, **kwargs):
    """Move the anonymous visitor's votes and bookmarks to the account that just signed in."""
    anon = request.session.pop(ANON_KEY, None) if request is not None else None
    if anon:
        merge(source=f"a:{anon}", target=f"u:{user.pk}")


@transaction.atomic
def merge(*, source: str, target: str) -> None:
    """Move votes and bookmarks from one voter to another; where both voted, the newer vote wins."""
    theirs = list(Vote.objects.select_for_update().filter(voter=source))
    tools = [v.tool_id for v in theirs]
    mine = {v.tool_id: v for v in Vote.objects.filter(voter=target, tool_id__in=tools)}
    newer = [v for v in theirs if v.tool_id not in mine or v.updated_at > mine[v.tool_id].updated_at]
    Vote.objects.filter(voter=source).delete()
    moved = [Vote(tool_id=v.tool_id, voter=target, verdict=v.verdict, updated_at=v.updated_at) for v in newer]
    Vote.objects.bulk_create(
        moved, update_conflicts=True, unique_fields=["tool", "voter"], update_fields=["verdict", "updated_at"]
    )
    tool_ids = list(Bookmark.objects.filter(owner=source).values_list("tool_id", flat=True))
    Bookmark.objects.filter(owner=source).delete()
    Bookmark.objects.bulk_create([Bookmark(tool_id=t, owner=target) for t in tool_ids], ignore_conflicts=True)
