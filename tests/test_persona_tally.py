"""The persona page's counts by category and verdict (PersonaTally, kept by database triggers)
stay equal to a count of the current reviews through every kind of write."""

from django.db.models import Count

from shiporskip.catalog.models import Category, Tool
from shiporskip.panel.models import PersonaTally, Review
from shiporskip.panel.running import review_tool


def counted() -> dict:
    """What the page showed before the tally: every current review grouped."""
    rows = (
        Review.objects.current()
        .order_by()
        .values_list("persona_id", "tool__category_id", "verdict")
        .annotate(n=Count("pk"))
    )
    return {(p, c, v): n for p, c, v, n in rows}


def kept() -> dict:
    rows = PersonaTally.objects.filter(reviews__gt=0).values_list(
        "persona_id", "category_id", "verdict", "reviews"
    )
    assert not PersonaTally.objects.filter(reviews__lt=0).exists()
    return {(p, c, v): n for p, c, v, n in rows}


def test_the_tally_follows_reviews_runs_categories_and_deletes(reviewed):
    assert kept() == counted() and kept()
    tool = Tool.objects.order_by("name").first()
    first_run = tool.current_run_id
    review_tool(tool=tool, model="offline", force=True)  # a new current run: old reviews leave
    tool.refresh_from_db()
    assert tool.current_run_id != first_run
    assert kept() == counted()

    review = Review.objects.filter(run_id=tool.current_run_id).first()
    review.verdict, review.score = ("skip", 1) if review.verdict == "ship" else ("ship", 99)
    review.save()
    assert kept() == counted()

    other = Category.objects.exclude(pk=tool.category_id).first()
    Tool.objects.filter(pk=tool.pk).update(category=other)
    assert kept() == counted()

    Tool.objects.filter(pk=tool.pk).update(current_run_id=first_run)  # back to the older run
    assert kept() == counted()

    review.delete()
    Review.objects.filter(run_id=first_run).first().delete()
    assert kept() == counted()

    tool.delete()
    assert kept() == counted()
