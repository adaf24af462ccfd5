"""A Redis database of a test's own: on REDIS_URL's server if set, else on the machine's own
Redis on its default port (CI's machines run one); the test skips when neither answers.

Each user claims an empty database (1 to 15) and empties it when done. Two sites on one
database would share a queue, so one site's worker could take the other's panel runs (CI met
exactly that: two page-cache tests on the two test workers, one site never reviewed).
"""

import contextlib
import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

LOCAL = "redis://127.0.0.1:6379"
MARKER = "shiporskip-test-claim"  # its value: the claiming process's pid


def server() -> str:
    """REDIS_URL's server (its database number dropped), or the local one."""
    parts = urlsplit(os.environ.get("REDIS_URL") or LOCAL)
    return urlunsplit(parts._replace(path=""))


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim(client) -> bool:
    """Take the database if it is empty, or left behind by a test process that has died."""
    owner = client.get(MARKER)
    if owner is not None and not pid_alive(int(owner)):
        client.flushdb()  # only our own marker says that this database was a test's
    if client.set(MARKER, os.getpid(), nx=True):
        if client.dbsize() == 1:
            return True
        client.delete(MARKER)  # someone's data: not ours to use
    return False


@contextlib.contextmanager
def own_database() -> Iterator[str]:
    """The URL of a claimed, empty Redis database, emptied again on the way out."""
    import redis

    base = server()
    try:
        redis.Redis.from_url(base, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"needs a Redis server: REDIS_URL, or one on {LOCAL}")
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{base}/{number}")
        if claim(client):
            break
    else:
        pytest.skip(f"no free Redis database (1-15) on {base}")
    try:
        yield f"{base}/{number}"
    finally:
        client.flushdb()
