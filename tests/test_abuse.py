"""Abuse: the admin's sign-in is throttled, accounts cannot be enumerated, weak passwords are refused.

Enumeration is checked the way an attacker would try it: the words of each answer over
alternating tries with a real SMTP server configured. Its time is checked by its causes, not a
stopwatch (which flakes on a busy machine): the same queries and the same password hashes for a
known and an unknown address, and no email sent inside the request (the worker sends it, as the
tasks show after).
"""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from shiporskip.community.models import Lockout, PendingSignUp
from shiporskip.community.tasks import tidy_up
from shiporskip.conf import Limit
from shiporskip.newsletter.models import Subscriber
from tests.community import csrf_from, reader
from tests.smtp import text_part

PASSWORD = "correct horse battery"
ADMIN_PASSWORD = "a long admin passphrase"


@pytest.fixture
def limits(settings):
    def set_limit(action, session=None, ip=None):
        settings.SHIPORSKIP_RATE_LIMITS = {
            **settings.SHIPORSKIP_RATE_LIMITS,
            action: {"session": session, "ip": ip},
        }

    return set_limit


@pytest.fixture
def boss(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", ADMIN_PASSWORD)


def admin_sign_in(client, password, username="boss", **extra):
    page = client.get("/admin/login/?next=/admin/")
    return client.post(
        "/admin/login/?next=/admin/",
        {
            "username": username,
            "password": password,
            "next": "/admin/",
            "csrfmiddlewaretoken": csrf_from(page.content.decode()),
        },
        **extra,
    )


# --- the admin's sign-in -------------------------------------------------------------------


def test_admin_sign_in_is_throttled_by_default(boss):
    """The probe's finding: 100 wrong passwords for a superuser got 100 answers and no 429."""
    guesser = reader(enforce_csrf_checks=True)
    codes = [admin_sign_in(guesser, f"guess {i}").status_code for i in range(12)]
    # SHIPORSKIP_RATE_ADMIN is 5/minute: even if a minute turns meanwhile, at most 10 get through.
    assert codes[:5] == [200] * 5 and 429 in codes and codes.count(200) <= 10


def test_admin_lockout_refuses_the_right_password_and_says_why(boss, limits):
    limits("admin", session=Limit(3, 3600))
    guesser = reader(enforce_csrf_checks=True)
    assert [admin_sign_in(guesser, f"guess {i}").status_code for i in range(3)] == [200] * 3
    locked = admin_sign_in(guesser, "guess 4")
    page = locked.content.decode()
    assert locked.status_code == 429 and 0 < int(locked["Retry-After"]) <= 3600
    assert "Too many admin sign-in attempts from this browser: the limit is 3 per hour." in page
    assert 'name="password"' in page  # the admin's own sign-in page, its form ready for later
    right = admin_sign_in(guesser, ADMIN_PASSWORD)
    assert right.status_code == 429  # not even checked while locked: a right guess tells nothing
    assert guesser.get("/admin/").status_code == 302  # still signed out
    owner = reader(enforce_csrf_checks=True)  # another browser (the IP limit is off here)
    assert admin_sign_in(owner, ADMIN_PASSWORD).url == "/admin/"  # the admin as before, otherwise
    assert owner.get("/admin/").status_code == 200
    assert owner.get("/admin/login/").url == "/admin/"  # signed in: on to the index
    assert owner.get("/admin/catalog/tool/").status_code == 200


def test_admin_lockout_per_network_across_sessions(boss, limits):
    limits("admin", session=Limit(100, 60), ip=Limit(2, 3600))
    codes = [admin_sign_in(reader(), f"guess {i}", REMOTE_ADDR="10.0.0.9").status_code for i in range(4)]
    assert codes == [200, 200, 429, 429]
    locked = admin_sign_in(reader(), ADMIN_PASSWORD, REMOTE_ADDR="10.0.0.9")
    assert locked.status_code == 429
    assert "from your network: the limit is 2 per hour" in locked.content.decode()
    assert admin_sign_in(reader(), ADMIN_PASSWORD, REMOTE_ADDR="10.0.0.10").status_code == 302


def test_lockouts_are_listed_for_the_admin(boss, limits):
    limits("admin", ip=Limit(1, 3600))
    limits("signin", session=Limit(1, 3600))
    for name in ["root", "boss", "boss"]:
        admin_sign_in(reader(), "guess", username=name, REMOTE_ADDR="10.0.0.66")
    site_guesser = reader()
    for _ in range(3):
        site_guesser.post("/accounts/signin", {"username": "alice@example.com", "password": "guess"})
    rows = {(row.action, row.scope): row for row in Lockout.objects.all()}
    assert set(rows) == {("admin", "ip"), ("signin", "session")}
    admin_row = rows["admin", "ip"]
    assert (admin_row.who, admin_row.ip, admin_row.refused) == ("10.0.0.66", "10.0.0.66", 2)
    assert admin_row.usernames == ["boss"]  # the refused ones: the first ("root") went through
    assert rows["signin", "session"].usernames == ["alice@example.com"]
    assert rows["signin", "session"].refused == 2

    owner = reader()
    owner.force_login(boss)
    index = owner.get("/admin/").content.decode()
    assert "Sign-in lockouts" in index
    listing = owner.get("/admin/community/lockout/")
    page = listing.content.decode()
    assert listing.status_code == 200
    assert "10.0.0.66" in page and "network (IP)" in page and "alice@example.com" in page
    assert owner.get(f"/admin/community/lockout/{admin_row.pk}/change/").status_code == 200  # to read
    assert owner.post(f"/admin/community/lockout/{admin_row.pk}/change/", {}).status_code == 403
    assert owner.get("/admin/community/lockout/add/").status_code == 403


# --- enumeration: the words ----------------------------------------------------------------


def without_token(html: str) -> str:
    """The page without what differs per request anyway: the CSRF token, a CSP nonce."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'nonce="[^"]+"', "", html)


def known_and_unknown(post) -> list:
    """Post for a known and an unknown address; return both answers, followed to the page shown."""
    answers = []
    for address in ["alice@example.com", "nobody@example.com"]:
        client = reader()
        response = post(client, address)
        shown = client.get(response.url) if response.status_code == 302 else response
        answers.append(
            (
                response.status_code,
                response.get("Location"),
                shown.status_code,
                without_token(shown.content.decode()),
            )
        )
    return answers


@pytest.fixture
def alice(db):
    get_user_model().objects.create_user("alice@example.com", "alice@example.com", PASSWORD)
    Subscriber.objects.create(email="alice@example.com", status="confirmed")


def post_signup(client, address, password=PASSWORD, **extra):
    return client.post(
        "/accounts/signup", {"email": address, "password1": password, "password2": password}, **extra
    )


def post_reset(client, address, **extra):
    return client.post("/accounts/reset", {"email": address}, **extra)


def post_subscribe(client, address, **extra):
    return client.post("/newsletter/subscribe", {"email": address}, **extra)


def test_sign_up_answers_the_same_for_a_known_address(alice):
    known, unknown = known_and_unknown(post_signup)
    assert known == unknown
    assert known[:3] == (302, "/accounts/signup/sent", 200) and "Check your inbox" in known[3]
    assert "already" not in known[3]
    # What differs goes to the address's owner only: a note to the account's owner, a link to the new one.
    [note] = [m for m in mail.outbox if m.to == ["alice@example.com"]]
    assert "already has an account" in note.body and "/accounts/reset" in note.body
    [link_mail] = [m for m in mail.outbox if m.to == ["nobody@example.com"]]
    assert "/accounts/signup/finish/" in link_mail.body
    assert get_user_model().objects.count() == 1  # no account until the link is followed


def test_a_sign_up_link_makes_the_account_once(alice):
    newcomer = reader()
    assert post_signup(newcomer, "Carol@Example.com").status_code == 302
    assert not get_user_model().objects.filter(email="carol@example.com").exists()
    [message] = mail.outbox
    path = re.search(r"http://127.0.0.1:8000(/accounts/signup/finish/\S+)", message.body).group(1)
    page = newcomer.get(path)  # what a mail scanner's prefetch does: nothing changes
    assert page.status_code == 200 and "Create my account" in page.content.decode()
    assert not get_user_model().objects.filter(email="carol@example.com").exists()
    assert newcomer.post(path).url == "/bookmarks"
    assert newcomer.get("/me").json()["user"] == "carol@example.com"
    assert reader().post(path).status_code == 410  # used
    assert "no longer works" in reader().get(path).content.decode()
    assert not PendingSignUp.objects.exists()


def test_a_sign_up_link_takes_the_reader_back_and_expires(alice, settings):
    newcomer = reader()
    newcomer.post(
        "/accounts/signup",
        {
            "email": "erin@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": "/compare/a-vs-b",
        },
    )
    newcomer.post(
        "/accounts/signup",
        {
            "email": "frank@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    erin, frank = [re.search(r"(/accounts/signup/finish/\S+)", m.body).group(1) for m in mail.outbox]
    assert newcomer.post(erin).url == "/compare/a-vs-b"
    assert PendingSignUp.objects.get(email="frank@example.com").next == ""  # not off-site
    expired = timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    PendingSignUp.objects.update(created_at=expired)
    late = reader().post(frank)
    assert late.status_code == 410 and "no longer works" in late.content.decode()
    tidy_up.call_local()
    assert not PendingSignUp.objects.exists()
    assert not get_user_model().objects.filter(email="frank@example.com").exists()


def test_a_sign_up_link_for_an_address_taken_meanwhile_makes_nothing(alice):
    """Two sign-ups sent for one new address, both links followed: one account, the second says so."""
    first, second = reader(), reader()
    post_signup(first, "dan@example.com")
    post_signup(second, "dan@example.com")
    paths = [re.search(r"(/accounts/signup/finish/\S+)", m.body).group(1) for m in mail.outbox]
    assert first.post(paths[0]).status_code == 302
    assert second.post(paths[1]).status_code == 410  # its link went when the account was made
    assert get_user_model().objects.filter(email="dan@example.com").count() == 1


# --- enumeration: the time -----------------------------------------------------------------


@contextmanager
def worker_queue():
    """Tasks go to the real queue, as on the site, instead of running inside the request."""
    HUEY.immediate = False
    HUEY.flush()
    try:
        yield
    finally:
        HUEY.flush()
        HUEY.immediate = True


def run_queued() -> int:
    """What the worker does next: run every queued task (in this thread and its transaction)."""
    tasks = []
    while (task := HUEY.dequeue()) is not None:
        tasks.append(task)
    HUEY.immediate = True  # so a task's own tasks run too, and it leaves the test's connection open
    try:
        for task in tasks:
            HUEY.execute(task)
    finally:
        HUEY.immediate = False
    return len(tasks)


# The answer forms a client can ask for: a page, JSON, an htmx fragment.
FORMATS = [{}, {"HTTP_ACCEPT": "application/json"}, {"HTTP_HX_REQUEST": "true"}]


@contextmanager
def counting_hashes():
    """Count the password hashes computed: on the site, the costly step of a request (PBKDF2)."""
    hasher = type(get_hasher())
    hashes: list[str] = []
    encode, verify = hasher.encode, hasher.verify

    def counted(method, name):
        def wrapper(self, *args, **kwargs):
            hashes.append(name)
            return method(self, *args, **kwargs)

        return wrapper

    hasher.encode, hasher.verify = counted(encode, "encode"), counted(verify, "verify")
    try:
        yield hashes
    finally:
        hasher.encode, hasher.verify = encode, verify


def answer_and_work(post, address, extra) -> tuple[tuple, tuple]:
    """One request: its answer as a reader sees it, and its work (queries, password hashes)."""
    client = reader()
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # Every try from the same, empty cache: a fill (such as the footer's panel size, kept a
    # minute) would land on whichever try came first or after it expired, address or not.
    cache.clear()
    with connection.execute_wrapper(count), counting_hashes() as hashes:
        response = post(client, address, **extra)
    assert response.status_code in (200, 302)
    shown = client.get(response.url) if response.status_code == 302 else response
    answer = (response.status_code, response.get("Location"), without_token(shown.content.decode()))
    return answer, (len(queries), tuple(hashes))


def alternate(post, tries: int) -> dict:
    """Alternate known and unknown addresses (each format in turn); per side: answers, work."""
    sides = {"known": (set(), set()), "unknown": (set(), set())}
    for i in range(tries):
        for side in ("known", "unknown") if i % 2 else ("unknown", "known"):
            address = "alice@example.com" if side == "known" else f"nobody{i}@example.com"
            answer, work = answer_and_work(post, address, FORMATS[i % len(FORMATS)])
            sides[side][0].add(answer)
            sides[side][1].add((i % len(FORMATS), work))  # a page renders more than JSON does
    return sides


def assert_same_answer_and_work(sides):
    """What a reader sees, and what would take time, is the same for either address."""
    known_answers, known_work = sides["known"]
    unknown_answers, unknown_work = sides["unknown"]
    assert known_answers == unknown_answers, "a known and an unknown address get different answers"
    assert known_work == unknown_work, "a known and an unknown address take different queries or hashes"


@pytest.fixture
def no_limits(limits):
    for action in ["signup", "signin", "subscribe"]:
        limits(action)


@pytest.mark.parametrize("what", ["signup", "reset", "subscribe"])
def test_known_and_unknown_get_the_same_answer_and_work_with_no_mail_in_the_request(
    alice, smtp, no_limits, what
):
    post = {"signup": post_signup, "reset": post_reset, "subscribe": post_subscribe}[what]
    tries = 2 * len(FORMATS)  # each answer form, each side first
    with worker_queue():
        sides = alternate(post, tries)
        assert smtp.messages == [], "an email was sent inside the request"
        assert run_queued() == 2 * tries  # every request, known or not, queued one task
    assert_same_answer_and_work(sides)
    to_alice = smtp.to("alice@example.com")
    if what == "signup":
        assert len(to_alice) == tries and "already has an account" in text_part(to_alice[0])
        assert len(smtp.messages) == 2 * tries
    elif what == "reset":
        assert len(to_alice) == tries and len(smtp.messages) == tries
    else:
        assert to_alice == [] and len(smtp.messages) == tries  # a confirmation to each new address


# --- weak passwords ------------------------------------------------------------------------

WEAK = [
    # The probe's three.
    " " * 8,
    "shiporskip",
    "Shiporskip2026",
    # Blanks of other kinds.
    " " * 12,
    "\t" * 10,
    " \t  \t  \t ",
    # The site's name, dressed up.
    "ShipOrSkip!",
    "ship or skip",
    "SHIP-OR-SKIP-2025",
    "sh1p0rsk1p",
    "$hip0r$kip99",
    "2026shiporskip",
    "shiporskip.com",
    "Ship_Or_Skip_123",
    "skiporship1",
    # A common word or name with a year, digits or symbols.
    "Summer2024!",
    "P@ssw0rd1",
    "password2026",
    "dragon1999",
    "Michael1985",
    "jennifer!!",
    "monkey123!",
    "Football2023",
    "iloveyou2",
    "letmein2024",
    "Welcome123",
    "sunshine#1",
    "Princess2000",
    # Keyboard walks and sequences.
    "qwertyuiop",
    "qwerty123",
    "Qwerty!23",
    "asdfghjkl",
    "1qaz2wsx",
    "zaq12wsx",
    "qazwsxedc",
    "zxcvbnm123",
    "abcdefgh",
    "abcd1234",
    "12345678a",
    "98765432x",
    "q-w-e-r-t-y-u",
    # Repeats.
    "aaaaaaaa",
    "abababab",
    "abcabcabc",
    "dragondragon",
    "20262026!!",
    "Zz!Zz!Zz!Zz!",
]
STRONG = [
    PASSWORD,
    "a brand new passphrase",
    "long passphrase",
    "a long passphrase",
    "tarnished violin orbit",
    "Xk9#mQ2$vL7p",
    "my cat eats 3 lemons daily",
    "Kettle-Rain-Octave-41",
    "ship it when the tests pass on postgres",
]


def refusal(password: str) -> str | None:
    user = get_user_model()(username="reader@example.com", email="reader@example.com")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return None


@pytest.mark.django_db
def test_weak_passwords_are_refused_with_a_reason():
    assert len(WEAK) >= 30
    passed = [p for p in WEAK if refusal(p) is None]
    assert passed == []


@pytest.mark.django_db
def test_strong_passwords_pass():
    assert {p: refusal(p) for p in STRONG} == dict.fromkeys(STRONG)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        (" " * 8, "only spaces"),
        ("Shiporskip2026", "built on the site"),
        ("qwerty123", "keyboard pattern or a sequence"),
        ("Summer2024!", "common word or name"),
        ("abcabcabc", "repeats itself"),
    ],
)
def test_the_sign_up_form_says_why(password, reason):
    page = post_signup(reader(), "reader@example.com", password)
    assert page.status_code == 200 and reason in page.content.decode()
    assert not PendingSignUp.objects.exists() and mail.outbox == []
