"""What the machines around the site ask of it: /healthz, /livez and the Prometheus metrics."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from shiporskip.conf import env_networks
from shiporskip.newsletter.models import Delivery
from shiporskip.panel.models import PanelRun

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"  # a documentation address: not the loopback


def metric(text: str, name: str, **labels) -> float:
    """One sample's value from the exposition text (0 when the series is not there yet)."""
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        if not sample.startswith(name + "{") and sample != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample.removeprefix(name)))
        if found == {k: str(v) for k, v in labels.items()}:
            return float(value)
    return 0.0


def test_liveness_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_readiness_checks_database_cache_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "cache", "queue"}
    assert all(check["ok"] and check["ms"] >= 0 for check in body["checks"].values())
    assert isinstance(body["checks"]["queue"]["pending"], int)
    assert "no-store" in response["Cache-Control"] and not response.cookies


def test_readiness_names_the_part_that_failed(client, settings, unused_tcp_port):
    # A real Redis client against a port where nothing listens: the cache is down for real.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_tcp_port}/0",
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failed"] == ["cache"]
    cache = body["checks"]["cache"]
    assert cache == {"ok": False, "error": "ConnectionError", "ms": cache["ms"]}
    assert body["checks"]["database"]["ok"] and body["checks"]["queue"]["ok"]
    assert "127.0.0.1" not in response.content.decode()  # the error's words go to the log only


@pytest.fixture
def unused_tcp_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_metrics_count_requests_by_route_and_status(client):
    before = client.get("/metrics").content.decode()
    for _ in range(3):
        client.get("/livez")
    client.get("/no-such-page")
    after = client.get("/metrics")
    assert after.status_code == 200 and after["Content-Type"].startswith("text/plain; version=0.0.4")
    text = after.content.decode()
    delta = metric(text, "shiporskip_http_requests_total", route="ops:livez", status="200") - metric(
        before, "shiporskip_http_requests_total", route="ops:livez", status="200"
    )
    assert delta == 3
    assert metric(text, "shiporskip_http_requests_total", route="unmatched", status="404") >= 1
    assert metric(text, "shiporskip_render_seconds_count", route="ops:livez") >= 3
    assert "no-store" in after["Cache-Control"]  # never in a proxy's cache


def test_metrics_read_runs_deliveries_and_queue_from_the_site(client, seed_pair):
    PanelRun.objects.create(tool=seed_pair[0], model="offline", status=PanelRun.Status.FAILED)
    text = client.get("/metrics").content.decode()
    for status in PanelRun.Status.values:
        expected = PanelRun.objects.filter(status=status).count()
        assert metric(text, "shiporskip_panel_runs", status=status) == expected
    assert metric(text, "shiporskip_panel_runs", status="done") == 2
    for status in Delivery.Status.values:  # every status is there, at zero too
        assert f'shiporskip_newsletter_deliveries{{status="{status}"}} 0.0' in text
    assert re.search(r"^shiporskip_queue_pending \d+\.0$", text, re.M)


def test_metrics_only_for_allowed_addresses_or_the_token(client, settings):
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 403
    settings.METRICS_ALLOW = env_networks("X", "203.0.113.0/24")
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 200
    assert client.get("/metrics").status_code == 403  # the loopback is no longer listed
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


def test_metrics_behind_a_proxy_judge_the_reader_not_the_proxy(client, settings):
    settings.SHIPORSKIP_PROXY_COUNT = 1
    # nginx on the same machine connects from the loopback, but the reader is outside.
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE)
    assert response.status_code == 403
    inside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert inside.status_code == 200


def test_probes_stay_out_of_the_sitemap(client, settings):
    index = client.get("/sitemap.xml").content.decode()
    sections = re.findall(r"<loc>[^<]*(/sitemap-[\w-]+\.xml)[^<]*</loc>", index)
    assert sections
    for section in sections:
        body = client.get(section).content.decode()
        assert "/metrics" not in body and "/healthz" not in body and "/livez" not in body


def test_a_bad_network_setting_says_what_it_wants(monkeypatch):
    monkeypatch.setenv("SHIPORSKIP_METRICS_ALLOW", "127.0.0.1,not-an-address")
    with pytest.raises(ImproperlyConfigured, match="SHIPORSKIP_METRICS_ALLOW: 'not-an-address'"):
        env_networks("SHIPORSKIP_METRICS_ALLOW", "127.0.0.1")
