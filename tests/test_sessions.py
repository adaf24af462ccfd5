"""Sessions read with one plain query (shiporskip/sessions.py) give what Django's own database
sessions give: the data of a live session; for an expired or unknown key, a new empty session
that drops the key (so the next save makes a fresh one, never reusing the stale key)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.utils import timezone

from shiporskip import sessions
from tests.community import CODE_LLAMA, reader

pytestmark = pytest.mark.django_db


def saved(**data) -> str:
    store = sessions.SessionStore()
    store.update(data)
    store.save()
    return store.session_key


@pytest.mark.parametrize("store", [sessions.SessionStore, django_db.SessionStore], ids=["ours", "django's"])
def test_live_expired_and_unknown_sessions_load_as_django_loads_them(store):
    live, expired = saved(voter="abc", n=3), saved(voter="old")
    Session.objects.filter(pk=expired).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert store(live).load() == {"voter": "abc", "n": 3}
    for key in [expired, "no-such-session-key-0123456789ab", None]:
        session = store(key)
        assert session.load() == {} and session.session_key is None, key


def test_the_site_reads_sessions_with_one_plain_query(django_assert_num_queries):
    assert settings.SESSION_ENGINE == "shiporskip.sessions"
    key = saved(voter="abc")
    with django_assert_num_queries(1) as queries:
        assert sessions.SessionStore(key).load() == {"voter": "abc"}
    assert queries.captured_queries[0]["sql"].startswith('SELECT "session_data" FROM "django_session"')


def test_an_expired_session_is_a_new_reader(seed_pair):
    alice = reader(HTTP_ACCEPT="application/json")
    assert alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}).status_code == 200
    assert alice.get(f"/me?tools={CODE_LLAMA}").json()["votes"] == {CODE_LLAMA: "ship"}
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert alice.get(f"/me?tools={CODE_LLAMA}").json()["votes"] == {}
