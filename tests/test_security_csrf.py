"""Every URL the site routes, every write method, no CSRF token: refused, nothing changed.

The URLs come from the URL conf itself (walked from `get_resolver()`), so a view added later is
covered without editing this file. Path converters are filled with real objects (the bundled
catalog, a persona, an edition, a subscriber, a user, a vote), so each request reaches the view
it names. Each write method is sent twice: by an anonymous reader and by a signed-in superuser
(the caller a forged cross-site request would ride on). The whole database is compared before
and after: row counts and contents, table by table.
"""

import hashlib
import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from shiporskip.catalog.models import Category, Tool
from shiporskip.community.models import Bookmark, Vote
from shiporskip.newsletter import editions
from shiporskip.newsletter.models import Subscriber
from shiporskip.panel.models import Persona
from shiporskip.panel.running import review_tool
from tests.security_corpora import TALLY

pytestmark = pytest.mark.django_db
WRITES = ["post", "put", "patch", "delete"]
# The one view that takes a POST without a CSRF token, on purpose: RFC 8058 one-click
# unsubscribe, posted by mail clients with no cookies; the unguessable per-reader token in the
# URL is what authorises it, so a forged request can only unsubscribe a reader whose token the
# forger already has (docs/ARCHITECTURE.md, "The newsletter").
# The newsletter box's no-JavaScript post (from a cached page, with no token) only answers the
# real form, prefilled: test_finished_site checks that it changes nothing and sends nothing.
EXEMPT = {("newsletter/unsubscribe/<slug:token>", "post"), ("newsletter/subscribe/form", "post")}


def walk(resolver, prefix=""):
    """(route, pattern) for every leaf of the URL conf, with its full route."""
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from walk(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


@pytest.fixture
def site(catalog):
    """Real rows for every converter: the bundled catalog, reviews, an edition, a reader..."""
    first, second = Tool.objects.order_by("slug")[:2]
    for tool in (first, second):
        review_tool(tool=tool, model="offline")
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "a long passphrase")
    subscriber = Subscriber.objects.create(email="reader@example.com", status=Subscriber.Status.CONFIRMED)
    edition = editions.publish()
    Vote.objects.create(tool=first, voter=f"u:{user.pk}", verdict="ship")
    Bookmark.objects.create(tool=first, owner=f"u:{user.pk}")
    return {
        "tool": first,
        "other": second,
        "user": user,
        "subscriber": subscriber,
        "edition": edition,
        "category": first.category,
        "persona": Persona.objects.first(),
    }


def model_for(name: str | None):
    """The model an admin URL name (`catalog_tool_change`) is about."""
    for model in admin.site._registry:
        if name and name.startswith(f"{model._meta.app_label}_{model._meta.model_name}_"):
            return model
    return None


def fill(route: str, pattern: URLPattern, site: dict) -> str:
    """The route with each converter or named group given a real value."""
    tool, user = site["tool"], site["user"]
    model = model_for(pattern.name)
    by_name = {
        "slug": site["category"].slug if "categories/" in route else tool.slug,
        "key": site["persona"].key,
        "number": str(site["edition"].number),
        "pair": f"{tool.slug}-vs-{site['other'].slug}",
        "a": tool.slug,
        "b": site["other"].slug,
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "app_label": "catalog",
        "content_type_id": str(ContentType.objects.get_for_model(Tool).pk),
        "object_id": str(
            model.objects.order_by("pk").values_list("pk", flat=True).first() if model else tool.pk
        ),
        "url": "no-such-page/",
        "section": "tools",  # sitemap-<section>.xml
    }
    by_name["id"] = by_name["object_id"]
    if "unsubscribe" in route:
        by_name["token"] = site["subscriber"].token
    elif "confirm" in route:
        by_name["token"] = site["subscriber"].confirm_token()
    else:
        by_name["token"] = default_token_generator.make_token(user)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: by_name[m.group(1)], route)
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: by_name[m.group(1)], url)
    return "/" + url.replace("^", "").replace("$", "").replace("\\", "")


def fingerprint() -> dict[str, str]:
    """Every table's rows, hashed: equal fingerprints mean nothing was added, changed or removed."""
    out, tables = {}, set(connection.introspection.table_names())
    for model in apps.get_models():
        if model._meta.db_table not in tables:
            continue  # a model whose migration is still to come holds no rows
        rows = model._base_manager.order_by("pk").values_list()
        out[model._meta.db_table] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return out


def test_every_write_without_a_token_is_refused_and_changes_nothing(site):
    anonymous = Client(enforce_csrf_checks=True)
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(site["user"])
    routes = list(walk(get_resolver()))
    before = fingerprint()
    assert len(routes) > 40, "the walk missed the URL conf"
    problems, tried, allowed, seen = [], 0, set(), set()
    for route, pattern in routes:
        url = fill(route, pattern, site)
        resolve(url)  # raises if a converter was filled wrong
        if url in seen:
            continue  # shadowed by an earlier route (e.g. the throttled admin login)
        seen.add(url)
        for method in WRITES:
            if (route, method) in EXEMPT:
                continue  # by design; test_the_exempt_unsubscribe_post_needs_the_readers_token
            for who, client in (("anonymous", anonymous), ("superuser", signed_in)):
                response = getattr(client, method)(url)
                tried += 1
                # 403: the CSRF check refused it; 405: a view that skips the check (the API's
                # operations, which django-ninja marks exempt; the unsubscribe link) refused
                # the method. Either way nothing ran.
                if response.status_code == 405:
                    allowed.add(f"{route} {response.headers.get('Allow', '')}")
                if response.status_code not in (403, 405):
                    problems.append(f"{method.upper()} {url} ({who}): {response.status_code}")
        # Compared once per route (the whole database, hashed: a few ms), not per request.
        after = fingerprint()
        if changed := [t for t, h in after.items() if before[t] != h]:
            problems.append(f"{url}: a write without a token changed {changed}")
        before = after
    TALLY.add(
        "csrf (route x write method x caller)",
        tried=tried,
        refused=tried - len(problems),
        problems=len(problems),
    )
    TALLY.note("csrf (route x write method x caller)", "routes", len(routes))
    assert not problems, "\n".join(problems)
    # What the views that skip the CSRF check accept: reads, and the one-click unsubscribe.
    assert all(a.endswith(("GET", "GET, POST")) for a in allowed), allowed


def test_the_exempt_unsubscribe_post_needs_the_readers_token(site):
    """The one CSRF-exempt POST: a wrong token changes nothing; the reader's own unsubscribes."""
    client = Client(enforce_csrf_checks=True)
    assert client.post("/newsletter/unsubscribe/not-the-token").status_code == 404
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED
    assert client.post(f"/newsletter/unsubscribe/{site['subscriber'].token}").status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_the_api_is_read_only(client, site):
    """Every operation in the OpenAPI schema is a GET; the schema documents no write."""
    schema = client.get("/api/openapi.json").json()
    methods = {m for ops in schema["paths"].values() for m in ops}
    assert methods == {"get"}, methods
    assert Category.objects.exists()
