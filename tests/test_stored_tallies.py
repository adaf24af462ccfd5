"""The stored tallies (catalog/tally_triggers.py, community/tally_triggers.py) equal a fresh
count after every kind of write, on whichever database the run uses."""

from django.db.models import Avg, Count, Q

from shiporskip.catalog.models import Tool
from shiporskip.community.models import ToolVotes, Vote
from shiporskip.pagecache.models import Generation
from shiporskip.panel.models import Review
from shiporskip.panel.running import review_tool


def fresh():
    """Every tool's tallies counted from the rows themselves: the old per-request way."""
    reviews = "current_run__reviews"
    counted = Tool.objects.annotate(
        ship=Count(reviews, filter=Q(**{f"{reviews}__verdict": "ship"})),
        skip=Count(reviews, filter=Q(**{f"{reviews}__verdict": "skip"})),
        mean=Avg(f"{reviews}__score"),
    )
    votes = {
        t: (s, k)
        for t, s, k in Vote.objects.values("tool")
        .annotate(s=Count("pk", filter=Q(verdict="ship")), k=Count("pk", filter=Q(verdict="skip")))
        .values_list("tool", "s", "k")
    }
    return {t.slug: (t.ship, t.skip, t.mean, *votes.get(t.pk, (0, 0))) for t in counted}


def stored():
    return {
        t.slug: (t.panel.ship, t.panel.skip, t.panel_score, t.community.ship, t.community.skip)
        for t in Tool.objects.with_tallies().with_score()
    }


def assert_exact():
    assert stored() == fresh()
    assert not ToolVotes.objects.filter(Q(ship__lt=0) | Q(skip__lt=0)).exists()


def site_token():
    return Generation.objects.filter(scope="site").values_list("token", flat=True).first()


def test_stored_tallies_follow_every_write(seed_pair):
    llama, mistral = seed_pair
    assert_exact()
    assert stored()[llama.slug][0] + stored()[llama.slug][1] > 0  # reviewed, so not trivially 0 = 0

    for n, verdict in enumerate(["ship", "ship", "skip", "ship", "skip"]):
        Vote.objects.cast(tool=llama, voter=f"a:{n}", verdict=verdict)
    Vote.objects.cast(tool=mistral, voter="a:0", verdict="skip")
    assert_exact()
    assert stored()[llama.slug][3:] == (3, 2)

    Vote.objects.cast(tool=llama, voter="a:0", verdict="skip")  # changed
    Vote.objects.cast(tool=llama, voter="a:1", verdict="none")  # taken back
    Vote.objects.filter(voter="a:2").update(tool=mistral)  # moved to another tool
    Vote.objects.filter(voter="a:3").delete()
    assert_exact()

    # A new run becomes current; then the old one is made current again.
    old_run = Tool.objects.get(pk=llama.pk).current_run_id
    review_tool(tool=llama, model="offline", force=True)
    assert Tool.objects.get(pk=llama.pk).current_run_id != old_run
    assert_exact()
    Tool.objects.filter(pk=llama.pk).update(current_run=old_run)
    assert_exact()

    # Reviews of the current run changed, removed, added.
    review = Review.objects.filter(run_id=old_run).first()
    Review.objects.filter(pk=review.pk).update(
        verdict="skip" if review.verdict == "ship" else "ship", score=7
    )
    assert_exact()
    Review.objects.filter(run_id=old_run).exclude(pk=review.pk).first().delete()
    assert_exact()
    Review.objects.filter(pk=review.pk).delete()
    assert_exact()
    review.pk = None
    review.save()
    assert_exact()

    # A stale copy saved over the row does not write its old tally back.
    stale = Tool.objects.get(pk=llama.pk)
    Review.objects.filter(run_id=old_run).delete()
    stale.description = "edited"
    stale.save()
    assert_exact()

    # Unreviewed, and deleted with its votes.
    Tool.objects.filter(pk=mistral.pk).update(current_run=None)
    assert_exact()
    Tool.objects.get(pk=mistral.pk).delete()
    assert_exact()
    assert not ToolVotes.objects.filter(tool_id=mistral.pk).exists()


def test_a_vote_keeps_its_tally_without_touching_the_site_generation(seed_pair):
    llama = seed_pair[0]
    before = site_token()
    Vote.objects.cast(tool=llama, voter="a:1", verdict="ship")
    Vote.objects.cast(tool=llama, voter="a:1", verdict="skip")
    Vote.objects.cast(tool=llama, voter="a:1", verdict="none")
    assert site_token() == before
    assert ToolVotes.objects.get(tool=llama).ship == ToolVotes.objects.get(tool=llama).skip == 0
