"""Which Redis the Redis tests use: REDIS_URL if set, else the machine's own Redis on its default
port (CI's machines run one), on a database of its own per use; '' when neither answers, and
those tests skip.

Keyed by use, so that two of them running at once on the two test workers never share keys.
"""

import os

import redis

LOCAL = "redis://127.0.0.1:6379"
DATABASES = {"rate limits": 13, "page cache": 14}


def redis_url(use: str) -> str:
    if url := os.environ.get("REDIS_URL"):
        return url
    url = f"{LOCAL}/{DATABASES[use]}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except redis.RedisError:
        return ""
    return url
