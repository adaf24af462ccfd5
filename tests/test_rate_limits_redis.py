"""Rate limits counted in Redis (with REDIS_URL): exact across processes, nothing in the database.

Runs on a Redis database of its own (tests/redis_server.py); skipped without a Redis server.
"""

import secrets

import pytest
from django.db import connection

from shiporskip.community import ratelimit
from shiporskip.community.models import RateCounter, Vote
from shiporskip.conf import Limit
from tests.community import CODE_LLAMA, reader, statements_run
from tests.redis_server import own_database

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def redis_url():
    with own_database() as url:
        yield url


@pytest.fixture
def redis_limits(settings, redis_url):
    settings.REDIS_URL = redis_url

    def set_limit(action, session=None, ip=None):
        settings.SHIPORSKIP_RATE_LIMITS = {
            **settings.SHIPORSKIP_RATE_LIMITS,
            action: {"session": session, "ip": ip},
        }

    return set_limit


def test_votes_per_ip_counted_in_redis(seed_pair, redis_limits):
    redis_limits("vote", session=Limit(100, 60), ip=Limit(3, 60))
    ip = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"  # a fresh key
    codes = [
        reader().post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}, REMOTE_ADDR=ip).status_code
        for _ in range(5)
    ]
    assert codes == [303, 303, 303, 429, 429]
    assert Vote.objects.count() == 3 and not RateCounter.objects.exists()  # the database counted nothing


def test_a_vote_for_no_such_tool_counts_nothing_in_redis(seed_pair, redis_limits, redis_url):
    import redis

    redis_limits("vote", session=Limit(1, 60), ip=Limit(1, 60))
    ip = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    stranger = reader()
    for _ in range(3):
        assert (
            stranger.post("/tools/no-such-tool/vote", {"verdict": "ship"}, REMOTE_ADDR=ip).status_code == 404
        )
    assert not redis.Redis.from_url(redis_url).keys(f"shiporskip:rate:vote:ip:{ip}:*")
    assert stranger.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}, REMOTE_ADDR=ip).status_code == 303


def test_hits_are_counted_once_each_and_expire_with_their_window(redis_limits, redis_url):
    import redis

    key = f"test:{secrets.token_hex(8)}"
    assert [ratelimit.hit(key, Limit(5, 60)) for _ in range(4)] == [1, 2, 3, 4]
    names = redis.Redis.from_url(redis_url).keys(f"shiporskip:rate:{key}:*")
    assert len(names) == 1 and 0 < redis.Redis.from_url(redis_url).ttl(names[0]) <= 120


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's one statement")
def test_a_vote_with_its_limits_in_redis_is_one_statement_on_postgresql(seed_pair, redis_limits):
    # The counts are Redis's; the vote alone is one statement, atomic by itself: no transaction
    # around it (here, inside the test's transaction, one would show as a SAVEPOINT).
    redis_limits("vote", session=Limit(100, 60), ip=Limit(100, 60))
    alice = reader(HTTP_ACCEPT="application/json")
    assert alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "skip"}).status_code == 200  # a session
    answers = []
    ran, sent = statements_run(
        lambda: answers.append(alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}))
    )
    assert answers[0].status_code == 200
    statements = [sql.lstrip().upper() for sql in [*ran, *sent]]
    writes = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE", "WITH", "SAVEPOINT"))]
    assert len(writes) == 1 and writes[0].startswith('INSERT INTO "COMMUNITY_VOTE"'), writes
    assert Vote.objects.get(tool__slug=CODE_LLAMA).verdict == "ship"
