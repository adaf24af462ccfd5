"""The JSON API against its own OpenAPI schema, with schemathesis: no 5xx, nothing undocumented.

schemathesis reads /api/openapi.json and sends each operation generated requests, valid and
invalid (any string, NUL bytes included, extra parameters), a bounded number per operation
with a fixed seed so that a run is repeatable. Every answer must be a documented status with
a body that fits its documented schema and content type, and none may be a server error. On
top of that, each operation is called with the real slugs of the catalog (generated strings
almost never name a tool), and once with an address longer than the web server accepts.
"""

import socket
from urllib.parse import urlsplit

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings

from tests.security_corpora import TALLY

pytestmark = pytest.mark.django_db  # in-process WSGI calls: one connection, one transaction
PROBE = "schemathesis (generated requests)"
CONFIG = schemathesis.Config.from_dict(
    {"seed": 2026, "generation": {"deterministic": True, "database": "none"}}
)
# Loaded at collection, from the app itself (the schema needs no database).
schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json", WSGIHandler(), config=CONFIG, headers={"Host": "localhost"}
)


@pytest.fixture
def api(seed_pair):
    """The seed pair, and the test's connection kept open across in-process requests.

    Django closes the connection when a request finishes; its test client turns that off for
    the request, schemathesis's WSGI client does not (PostgreSQL would lose the test's data).
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield seed_pair
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


REAL = {"slug": "code-llama-4", "a": "code-llama-4", "b": "mistral-3-small-22b"}


@schema.parametrize()
@settings(
    max_examples=50,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_documented_answers(case, api):
    try:
        response = case.call_and_validate(headers={"Host": "localhost"})
    except BaseException:  # schemathesis raises a group of failures
        TALLY.add(PROBE, tried=1, problems=1)  # hypothesis replays a failure while shrinking it
        raise
    # Refused safely: a documented 4xx (unknown slug, control character, unsupported method).
    TALLY.add(PROBE, tried=1, refused=int(response.status_code >= 400))


def test_real_slugs_get_documented_answers(api):
    """Each operation with the catalog's own slugs: the 200 bodies fit the schema."""
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {
        "/api/tools",
        "/api/tools/{slug}",
        "/api/tools/{slug}/facts-history",
        "/api/tools/{slug}/history",
        "/api/compare/{a}/{b}",
        "/api/personas",
        "/api/search",
    }
    for op in operations:
        names = [p.name for p in op.path_parameters]
        case = op.Case(path_parameters={n: REAL[n] for n in names})
        response = case.call_and_validate(headers={"Host": "localhost"})
        assert response.status_code == 200, op.path
        TALLY.add("api operations with real slugs", tried=1)


@pytest.mark.django_db(transaction=True)  # a live server: its own connection
def test_an_address_too_long_for_the_server_is_a_documented_414(seed_pair, live_server):
    """The web server, not Django, refuses an over-long request line; the schema says so."""
    host, port = urlsplit(live_server.url).hostname, urlsplit(live_server.url).port
    slug = "x" * 70_000  # over the development server's 65536 (gunicorn's is 4094)
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(f"GET /api/tools/{slug} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        status_line = sock.makefile("rb").readline().decode()
    assert status_line.split()[1] == "414", status_line
    for result in schema.get_all_operations():
        documented = result.ok().definition.raw["responses"]
        assert "414" in documented and "400" in documented, result.ok().path
    TALLY.add("over-long address (414)", tried=1, refused=1)
