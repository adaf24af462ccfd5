"""Compose an edition: the verdicts and comparisons published since the previous one."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, F
from django.template.loader import render_to_string
from django.utils import timezone

from shiporskip.catalog.models import Tool
from shiporskip.compare.comparison import canonical_pair, compare_url
from shiporskip.control_chars import CONTROL
from shiporskip.newsletter.models import Delivery, Edition, Subscriber

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

NAME = "Weekly AI Tool Verdicts"
FIRST_PERIOD = timedelta(days=7)  # the first edition covers the week before it
LEADERS_PER_TOOL = 2
MAX_COMPARISONS = 12


@dataclass
class Draft:
    number: int
    subject: str
    html: str
    text: str
    content: dict
    period_start: datetime
    period_end: datetime


def latest() -> Edition | None:
    return Edition.objects.order_by("-number").first()


def tool_entry(tool: Tool) -> dict:
    return {
        "slug": tool.slug,
        "name": tool.name,
        "category": tool.category.name,
        "category_slug": tool.category.slug,
        "best_for": tool.best_for,
        "url": settings.SITE_URL + tool.get_absolute_url(),
        **tool.panel.as_dict(),
        "readers": tool.community.label if tool.community.total else None,
    }


class _MeanScore(TypedDict):
    mean_score: float | None  # annotated in `comparisons`


def rank(tool: "WithAnnotations[Tool, _MeanScore]") -> tuple:
    """Order a category's tools by the panel: ship share first, then mean score."""
    return (tool.panel.ship_share or 0, tool.mean_score or 0, tool.name)


def comparisons(new: list[Tool]) -> list[dict]:
    """Pair each new tool with its category's leaders (same category only), best pairs first."""
    categories = {tool.category_id for tool in new}
    peers = (
        Tool.objects.with_tallies()
        .reviewed()
        .filter(category_id__in=categories)
        .annotate(mean_score=Avg("current_run__reviews__score"))
    )
    ranked = sorted(peers, key=rank, reverse=True)
    leaders = {
        tool.pk: [t for t in ranked if t.category_id == tool.category_id and t.pk != tool.pk] for tool in new
    }
    pairs, seen = [], set()
    for place in range(LEADERS_PER_TOOL):  # every new tool against its top leader first
        for tool in new:
            for leader in leaders[tool.pk][place : place + 1]:
                key = canonical_pair(tool.slug, leader.slug)
                if key not in seen:
                    seen.add(key)
                    pairs.append((tool, leader))
    return [
        {
            "title": f"{a.name} vs {b.name}",
            "category": a.category.name,
            "url": settings.SITE_URL + compare_url(a.slug, b.slug),
            "tools": [tool_entry(a), tool_entry(b)],
        }
        for a, b in pairs[:MAX_COMPARISONS]
    ]


def subject_for(number: int, verdicts: list[dict]) -> str:
    """Name the week's strongest verdicts first."""
    best = sorted(verdicts, key=lambda v: (-(v["ship_share"] or 0), v["name"]))
    # A subject is one header line: a control character in a name (one written to the
    # database past the catalog's checks) becomes a space rather than breaking the edition.
    names = [" ".join(CONTROL.sub(" ", v["name"]).split()) for v in best]
    shown = ", ".join(names[:2]) + (f" and {len(names) - 2} more" if len(names) > 2 else "")
    return f"{NAME} #{number}: {shown}"[:200]


def compose(*, now: datetime | None = None) -> Draft | None:
    """Build the next edition from verdicts finished since the last one; None if there are none."""
    now = now or timezone.now()
    previous = latest()
    start = previous.period_end if previous else now - FIRST_PERIOD
    new = list(
        Tool.objects.with_tallies()
        .filter(current_run__finished_at__gt=start, current_run__finished_at__lte=now)
        .order_by("category__name", "name")
    )
    if not new:
        return None
    number = previous.number + 1 if previous else 1
    verdicts = [tool_entry(t) for t in new]
    content = {"verdicts": verdicts, "comparisons": comparisons(new)}
    subject = subject_for(number, verdicts)
    context = {
        "content": content,
        "number": number,
        "subject": subject,
        "name": NAME,
        "site_url": settings.SITE_URL,
        "period_start": start,
        "period_end": now,
    }
    html = render_to_string("newsletter/email/edition_body.html", context)
    text = render_to_string("newsletter/email/edition_body.txt", context)
    return Draft(number, subject, html, text, content, start, now)


def publish(*, now: datetime | None = None) -> Edition | None:
    """Store the next edition and queue it for every receiving subscriber, in one transaction."""
    draft = compose(now=now)
    if draft is None:
        return None
    try:
        with transaction.atomic():
            edition = Edition.objects.create(**vars(draft))
            queue(edition)
    except IntegrityError:  # another sender stored this number first: help it send that one
        return unfinished()
    return edition


def queue(edition: Edition) -> int:
    """Insert one queued delivery per receiving subscriber in one statement; repeats add none."""
    # Who receives is said once, by Subscriber.objects.receiving(): its SQL is the source here.
    receivers, params = Subscriber.objects.receiving().order_by().values(sid=F("pk")).query.sql_with_params()
    delivery = connection.ops.quote_name(Delivery._meta.db_table)
    # The table name comes from our model, the values are parameters. "WHERE true" keeps SQLite
    # from reading ON CONFLICT as a join's ON.
    sql = (
        f"INSERT INTO {delivery} (edition_id, subscriber_id, status, claimed_by, accepted, error) "  # noqa: S608
        f"SELECT %s, r.sid, 'queued', '', '', '' FROM ({receivers}) r WHERE true "
        "ON CONFLICT (edition_id, subscriber_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [edition.pk, *params])
        return cursor.rowcount


def unfinished() -> Edition | None:
    """The oldest edition with deliveries still queued or in flight."""
    return Edition.objects.filter(finished_at__isnull=True).order_by("number").first()
