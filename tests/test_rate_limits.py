"""Rate limits: exactly the configured number of requests goes through, the rest get 429."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from shiporskip.community.models import Vote
from shiporskip.conf import Limit, env_rate
from tests.community import CODE_LLAMA, MISTRAL, counts, reader


@pytest.fixture
def limits(settings):
    def set_limit(action, session=None, ip=None):
        settings.SHIPORSKIP_RATE_LIMITS = {
            **settings.SHIPORSKIP_RATE_LIMITS,
            action: {"session": session, "ip": ip},
        }

    return set_limit


def test_votes_per_session(seed_pair, limits):
    limits("vote", session=Limit(5, 60))
    alice, bob = reader(), reader()
    codes = [
        alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": v}).status_code for v in ["ship", "skip"] * 4
    ]
    assert codes == [303] * 5 + [429] * 3
    assert counts(CODE_LLAMA) == {"ship": 1, "skip": 0}  # the fifth vote (ship) stands, no later one
    assert bob.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}).status_code == 303  # a new session


def test_votes_per_ip_across_sessions(seed_pair, limits):
    limits("vote", session=Limit(100, 60), ip=Limit(3, 60))

    def from_ip(ip):
        return reader().post(f"/tools/{MISTRAL}/vote", {"verdict": "ship"}, REMOTE_ADDR=ip).status_code

    codes = [from_ip("10.0.0.7") for _ in range(5)]
    assert codes == [303, 303, 303, 429, 429]
    assert from_ip("10.0.0.8") == 303
    assert Vote.objects.count() == 4


def test_429_says_why_in_every_answer_form(seed_pair, limits):
    limits("vote", session=Limit(1, 3600))
    alice = reader()
    alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
    page = alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "skip"})
    assert page.status_code == 429 and 0 < int(page["Retry-After"]) <= 3600
    assert "Too many votes from this browser: the limit is 1 per hour." in page.content.decode()
    as_json = alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "skip"}, HTTP_ACCEPT="application/json")
    assert as_json.json()["error"].startswith("Too many votes")
    widget = alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "skip"}, HTTP_HX_REQUEST="true")
    assert widget.status_code == 429 and 'role="alert">Too many votes' in widget.content.decode()


def test_a_window_ends_on_the_clock(seed_pair, limits, rate_clock):
    """Fixed windows: the count holds for the whole window and starts again with the next."""
    limits("vote", session=Limit(2, 60))
    alice = reader()

    def vote():
        response = alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
        return response.status_code, response.get("Retry-After")

    assert [vote(), vote(), vote()] == [(303, None), (303, None), (429, "60")]
    rate_clock.advance(59)  # the last second of the window
    assert vote() == (429, "1")
    rate_clock.advance(1)  # the next window
    assert [vote(), vote(), vote()] == [(303, None), (303, None), (429, "60")]


def test_retry_after_counts_down_to_the_end_of_every_window(seed_pair, limits, rate_clock):
    limits("vote", session=Limit(1, 60), ip=Limit(100, 3600))
    alice = reader()
    alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
    rate_clock.advance(600)  # a new minute, ten minutes into the hour
    alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "skip"})
    refused = alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
    # Retry-After covers every configured window, so a client that waits is not refused again.
    assert (refused.status_code, refused["Retry-After"]) == (429, "3000")
    assert counts(CODE_LLAMA) == {"ship": 0, "skip": 1}


def test_bookmarks_limited(seed_pair, limits):
    limits("bookmark", session=Limit(2, 60))
    alice = reader()
    codes = [alice.post(f"/tools/{CODE_LLAMA}/bookmark").status_code for _ in range(3)]
    assert codes == [303, 303, 429]


def test_sign_in_and_sign_up_limited(seed_pair, limits):
    limits("signin", session=Limit(3, 60))
    limits("signup", ip=Limit(2, 3600))
    guesser = reader()
    codes = [
        guesser.post("/accounts/signin", {"username": "x@example.com", "password": f"guess {i}"}).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]  # 200: the form again, with "enter a correct email"
    form = {"password1": "long passphrase", "password2": "long passphrase"}
    signups = [
        reader().post("/accounts/signup", {"email": f"u{i}@example.com", **form}).status_code
        for i in range(3)
    ]
    assert signups == [302, 302, 429]
    assert reader().post("/accounts/reset", {"email": "x@example.com"}).status_code == 302


def test_forwarded_for_is_only_trusted_behind_a_proxy(seed_pair, limits, settings):
    limits("vote", ip=Limit(1, 60))

    def post(ip, fwd):
        answer = reader().post(
            f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}, REMOTE_ADDR=ip, HTTP_X_FORWARDED_FOR=fwd
        )
        return answer.status_code

    assert [post("10.0.0.1", "1.1.1.1"), post("10.0.0.1", "2.2.2.2")] == [303, 429]  # header ignored
    settings.SHIPORSKIP_PROXY_COUNT = 1
    assert [post("10.0.0.2", "3.3.3.3"), post("10.0.0.2", "4.4.4.4")] == [303, 303]


@pytest.mark.parametrize("raw", ["ten/minute", "5/fortnight", "5", "-1/minute", "0/minute"])
def test_malformed_rate_setting_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("SHIPORSKIP_RATE_VOTE", raw)
    with pytest.raises(ImproperlyConfigured, match="SHIPORSKIP_RATE_VOTE=.* is not a rate"):
        env_rate("SHIPORSKIP_RATE_VOTE", "60/minute")


def test_rate_settings_parse(monkeypatch):
    for raw, expected in [("30/minute", Limit(30, 60)), ("5/hours", Limit(5, 3600)), ("off", None)]:
        monkeypatch.setenv("SHIPORSKIP_RATE_VOTE", raw)
        assert env_rate("SHIPORSKIP_RATE_VOTE", "60/minute") == expected


def test_daily_tidy_up_keeps_current_counters(seed_pair, rate_clock):
    from shiporskip.community.models import RateCounter
    from shiporskip.community.tasks import tidy_up

    now = int(rate_clock())
    RateCounter.objects.create(key="vote:ip:old", slot=now - 3 * 86400, hits=5)
    RateCounter.objects.create(key="vote:ip:new", slot=now - now % 60, hits=5)
    tidy_up.call_local()
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["vote:ip:new"]


def test_newsletter_sign_ups_limited(db, limits):
    from shiporskip.newsletter.models import Subscriber

    limits("subscribe", ip=Limit(2, 3600))
    codes = [
        reader()
        .post("/newsletter/subscribe", {"email": f"r{i}@example.com"}, HTTP_ACCEPT="application/json")
        .status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]
    assert Subscriber.objects.count() == 2


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("vote", {"verdict": "ship"}),
        ("vote", {"verdict": "none"}),
        ("bookmark", {"bookmarked": "1"}),
        ("bookmark", {"bookmarked": "0"}),
        ("bookmark", {}),  # a toggle
    ],
)
def test_a_write_for_no_such_tool_is_404_and_counts_nothing(seed_pair, limits, path, form):
    # The write names its tool by slug and finds it in its own statement, the rate counters
    # guarded by the same condition: a tool that does not exist is not counted, nor written,
    # and a new reader is given no session.
    from django.contrib.sessions.models import Session

    from shiporskip.community.models import Bookmark, RateCounter

    limits(path, session=Limit(2, 60), ip=Limit(2, 60))
    stranger = reader()
    for _ in range(3):  # past the limits, had they counted
        response = stranger.post(f"/tools/no-such-tool/{path}", form, HTTP_ACCEPT="application/json")
        assert response.status_code == 404
    assert "sessionid" not in response.cookies
    assert RateCounter.objects.count() == 0 and Session.objects.count() == 0
    assert Vote.objects.count() == 0 and Bookmark.objects.count() == 0
    # The limits still hold for a tool that exists.
    codes = [stranger.post(f"/tools/{CODE_LLAMA}/{path}", form).status_code for _ in range(3)]
    assert codes == [303, 303, 429]


def test_a_refused_write_for_no_such_tool_is_still_404(seed_pair, limits):
    # Over the limit already, a reader who names no tool hears that first (404 before 429).
    limits("vote", session=Limit(1, 60))
    alice = reader()
    assert alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"}).status_code == 303
    assert alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "skip"}).status_code == 429
    assert alice.post("/tools/no-such-tool/vote", {"verdict": "skip"}).status_code == 404
    assert counts(CODE_LLAMA) == {"ship": 1, "skip": 0}
