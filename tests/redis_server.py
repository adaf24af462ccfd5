"""A Redis database of a test's own: on REDIS_URL's server if set, else on the machine's own
Redis on its default port (CI's machines run one); the test skips when neither answers.

Each user claims an empty database (1 to 15) and empties it when done. Two sites on one
database would share a queue, so one site's worker could take the other's panel runs (CI met
exactly that: two page-cache tests on the two test workers, one site never reviewed).
"""

import contextlib
import os
import socket
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

LOCAL = "redis://127.0.0.1:6379"
MARKER = "shiporskip-test-claim"  # its value: the claiming process, "host@pid"
ME = f"{socket.gethostname()}@{os.getpid()}"


def given() -> str:
    return os.environ.get("REDIS_URL") or LOCAL


def database_url(url: str, number: int) -> str:
    """`url` with its database number set: the path of a redis:// or rediss:// address, the
    `db` parameter of a unix:// one (whose path is the socket's); other parameters kept."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"] + [("db", str(number))]
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(path=f"/{number}"))


def database_of(url: str) -> int:
    parts = urlsplit(url)
    number = dict(parse_qsl(parts.query)).get("db") or parts.path.strip("/") or "0"
    return int(number) if number.isdigit() else 0


def abandoned(owner: bytes | None) -> bool:
    """A marker left by a test process of this machine that is gone (a crashed run): the
    newsletter's rule for a sender's claim, in the same "host@pid" form."""
    from shiporskip.newsletter.delivery import owner_gone  # needs Django set up: not at import

    return owner is not None and owner_gone(owner.decode())


def claim(client) -> bool:
    """Take the database if it is empty, or left behind by a test process that has died; one
    claimer wins even when two try at once."""
    import redis

    with client.pipeline() as pipe:
        try:
            pipe.watch(MARKER)  # a claim by anyone else between here and EXEC undoes ours
            if abandoned(pipe.get(MARKER)):
                pipe.multi()
                pipe.flushdb()
                pipe.set(MARKER, ME)
                pipe.execute()
                return True
        except redis.WatchError:
            return False
    if client.set(MARKER, ME, nx=True):
        if client.dbsize() == 1:
            return True
        client.delete(MARKER)  # someone's data: not ours to use
    return False


@contextlib.contextmanager
def own_database() -> Iterator[str]:
    """The URL of a claimed, empty Redis database, emptied again on the way out. Never the
    one REDIS_URL names: the test processes' own cache is there, and cleared between tests."""
    import redis

    url = given()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"needs a Redis server: REDIS_URL, or one on {LOCAL}")
    for number in range(15, 0, -1):
        if number == database_of(url):
            continue
        client = redis.Redis.from_url(database_url(url, number))
        try:
            if claim(client):
                break
        except redis.ResponseError:  # a server configured with fewer databases
            continue
    else:
        pytest.skip(f"no free Redis database (1-15) on {url}")
    try:
        yield database_url(url, number)
    finally:
        client.flushdb()
