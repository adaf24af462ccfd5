"""`/healthz` (ready: can this process serve?) and `/livez` (alive: is it answering at all?).

A load balancer takes a web process out of rotation on a 503 from `/healthz`; a service
manager restarts one only when `/livez` stops answering, which it does without touching the
database, so an outage of PostgreSQL or Redis never turns into a restart loop of every web
process.
"""

import logging
import time
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger("shiporskip.health")


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def check_cache() -> dict:
    # A round trip through the real cache (Redis with REDIS_URL), with a key of our own so
    # that two probes at once cannot read each other's value.
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    found = cache.get(key)
    cache.delete(key)
    if found != "1":
        raise RuntimeError("the cache did not return the value just stored")
    return {}


def check_queue() -> dict:
    from huey.contrib.djhuey import HUEY

    return {"pending": HUEY.pending_count()}  # one LLEN on Redis, one COUNT on SqliteHuey


CHECKS = {"database": check_database, "cache": check_cache, "queue": check_queue}


def run_checks() -> dict[str, dict]:
    """Each part's answer: ok, milliseconds taken, and on failure the kind of error.

    Only the exception's class is answered (the probe may be public); its message, which can
    name hosts and users, goes to the log.
    """
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            result = {"ok": True, **check()}
        except Exception as exc:  # any failure of a part is that part's answer, never a 500
            log.error("health check %s failed: %s: %s", name, type(exc).__name__, exc)
            result = {"ok": False, "error": type(exc).__name__}
        result["ms"] = round((time.perf_counter() - started) * 1000, 2)
        results[name] = result
    return results


@require_safe
@never_cache
def healthz(request):
    checks = run_checks()
    failed = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "fail" if failed else "ok", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


@require_safe
@never_cache
def livez(request):
    return JsonResponse({"status": "ok"})
