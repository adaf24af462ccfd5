"""Many readers voting at once over real HTTP: counts stay exact, nothing fails or locks."""

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db.models import Sum

from shiporskip.community.models import Bookmark, RateCounter, Vote
from shiporskip.conf import Limit
from tests.community import CODE_LLAMA, MISTRAL, counts
from tests.http_reader import HttpReader

pytestmark = pytest.mark.django_db(transaction=True)

READERS, ACTIONS = 24, 25


def reader_session(base: str, seed: int) -> tuple[dict, set, list]:
    """Vote, change, take back and bookmark at random; return the final intent and any failures."""
    rng = random.Random(seed)
    reader = HttpReader(base)
    final, marks, failures = {}, set(), []
    for _ in range(ACTIONS):
        slug = rng.choice([CODE_LLAMA, MISTRAL])
        if rng.random() < 0.2:
            on = rng.random() < 0.6
            status, body = reader.post(f"/tools/{slug}/bookmark", {"bookmarked": "1" if on else "0"})
            (marks.add if on else marks.discard)(slug)
        else:
            verdict = rng.choice(["ship", "skip", "none"])
            status, body = reader.post(f"/tools/{slug}/vote", {"verdict": verdict})
            final[slug] = verdict
        if status != 200:
            failures.append((status, body))
    return final, marks, failures


@pytest.mark.parametrize("limited", [False, True], ids=["no limits", "limits counted"])
def test_concurrent_readers_leave_exact_counts(seed_pair, live_server, settings, limited):
    # Limits on: each vote's counters are written in its commit too (too high to trip).
    limit = Limit(100000, 60) if limited else None
    every = {"session": limit, "ip": limit}
    settings.SHIPORSKIP_RATE_LIMITS = {action: every for action in settings.SHIPORSKIP_RATE_LIMITS}
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        results = list(pool.map(lambda seed: reader_session(live_server.url, seed), range(READERS)))
    failures = [f for _, _, fs in results for f in fs]
    assert failures == [], failures[:3]  # no 5xx, no "database is locked"
    for slug in (CODE_LLAMA, MISTRAL):
        expected = {v: sum(1 for final, _, _ in results if final.get(slug) == v) for v in ("ship", "skip")}
        assert counts(slug) == expected
        assert Bookmark.objects.filter(tool__slug=slug).count() == sum(slug in m for _, m, _ in results)
    assert Vote.objects.values("voter").distinct().count() <= READERS
    if limited:  # every write counted once on each of its two keys
        assert RateCounter.objects.aggregate(n=Sum("hits"))["n"] == 2 * READERS * ACTIONS
