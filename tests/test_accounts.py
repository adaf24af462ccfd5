"""Sign up, sign in, sign out and reset a password; what a visitor did comes with them."""

import re

from django.contrib.auth import get_user_model
from django.core import mail

from shiporskip.community.models import Bookmark, Vote
from tests.community import CODE_LLAMA, MISTRAL, counts, reader

PASSWORD = "correct horse battery"


def signup(client, email="alice@example.com", password=PASSWORD):
    """Sign up as a reader does: the form, then the link in the email it sends (if it sends one)."""
    sent = client.post("/accounts/signup", {"email": email, "password1": password, "password2": password})
    link = re.search(
        r"http://127.0.0.1:8000(/accounts/signup/finish/\S+)",
        mail.outbox[-1].body if sent.status_code == 302 and mail.outbox else "",
    )
    if link is None:
        return sent
    client.get(link.group(1))  # the page with the button
    return client.post(link.group(1))


def signin(client, email="alice@example.com", password=PASSWORD):
    return client.post("/accounts/signin", {"username": email, "password": password})


def test_sign_up_keeps_anonymous_votes_and_bookmarks(seed_pair):
    alice = reader()
    alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "skip"})
    alice.post(f"/tools/{MISTRAL}/bookmark", {"bookmarked": "1"})
    assert signup(alice).status_code == 302
    user = get_user_model().objects.get()
    assert user.username == user.email == "alice@example.com"
    assert list(Vote.objects.values_list("voter", "verdict")) == [(f"u:{user.pk}", "skip")]
    assert list(Bookmark.objects.values_list("owner", flat=True)) == [f"u:{user.pk}"]
    me = alice.get(f"/me?tools={CODE_LLAMA}").json()
    assert me.pop("csrf")
    assert me == {"user": "alice@example.com", "votes": {CODE_LLAMA: "skip"}, "bookmarked": []}
    assert MISTRAL in alice.get(f"/me?tools={MISTRAL}").json()["bookmarked"]


def test_sign_in_merges_without_double_counting(seed_pair):
    signup(reader())
    laptop = reader()
    signin(laptop)
    laptop.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
    laptop.post(f"/tools/{CODE_LLAMA}/bookmark", {"bookmarked": "1"})
    phone = reader()  # the same person, not signed in yet, votes again and changes their mind
    phone.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "skip"})
    phone.post(f"/tools/{CODE_LLAMA}/bookmark", {"bookmarked": "1"})
    phone.post(f"/tools/{MISTRAL}/vote", {"verdict": "ship"})
    assert counts(CODE_LLAMA) == {"ship": 1, "skip": 1}
    assert signin(phone).status_code == 302
    assert counts(CODE_LLAMA) == {"ship": 0, "skip": 1}  # one person, one vote: the newer one
    assert counts(MISTRAL) == {"ship": 1, "skip": 0}
    assert Bookmark.objects.count() == 1
    votes = laptop.get(f"/me?tools={CODE_LLAMA},{MISTRAL}").json()["votes"]
    assert votes == {CODE_LLAMA: "skip", MISTRAL: "ship"}


def test_the_account_page_lists_your_votes(seed_pair):
    alice = reader()
    assert alice.get("/accounts/").status_code == 302  # signed out: to the sign-in page
    signup(alice)
    assert "No votes yet" in alice.get("/accounts/").content.decode()
    alice.post(f"/tools/{MISTRAL}/vote", {"verdict": "skip"})
    page = alice.get("/accounts/").content.decode()
    assert "Signed in as <strong>alice@example.com</strong>" in page
    assert 'Mistral 3 Small (22B)</a>: <span class="score score-skip">Skip</span>' in page


def test_sign_out_leaves_the_account_votes_behind(seed_pair):
    alice = reader()
    signup(alice)
    alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
    assert alice.post("/accounts/signout").status_code == 302
    me = alice.get(f"/me?tools={CODE_LLAMA}").json()
    assert me["user"] is None and me["votes"] == {}
    assert counts(CODE_LLAMA) == {"ship": 1, "skip": 0}


def test_bad_sign_up_and_sign_in_say_why(seed_pair):
    taken = reader()
    signup(taken)
    # Signing up again with a taken address answers as for a new one (no tell to a stranger);
    # the account's owner is the one told, by email.
    again = reader().post(
        "/accounts/signup",
        {"email": "alice@example.com", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )
    assert "Check your inbox" in again.content.decode()
    assert "already has an account" in mail.outbox[-1].body and mail.outbox[-1].to == ["alice@example.com"]
    weak = signup(reader(), email="bob@example.com", password="123").content.decode()
    assert "This password is too short" in weak
    bad = signin(reader(), password="wrong password").content.decode()
    assert "Please enter a correct" in bad
    assert get_user_model().objects.count() == 1


def test_password_reset_by_email_through_a_real_smtp_server(seed_pair, smtp):
    get_user_model().objects.create_user("alice@example.com", "alice@example.com", PASSWORD)
    assert reader().post("/accounts/reset", {"email": "alice@example.com"}).status_code == 302
    assert reader().post("/accounts/reset", {"email": "nobody@example.com"}).status_code == 302  # same answer
    [message] = smtp.messages
    assert message["To"] == "alice@example.com" and message["Subject"] == "Reset your Ship or Skip password"
    link = re.search(r"http://127.0.0.1:8000(/accounts/reset/\S+)", message.get_content()).group(1)
    browser = reader()
    form_page = browser.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    new = "a brand new passphrase"
    done = browser.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert signin(reader(), password=new).status_code == 302
    assert "no longer works" in reader().get(link, follow=True).content.decode()  # single use


def test_sign_in_with_the_email_in_any_case(seed_pair):
    signup(reader(), email="Bob@Example.com")
    assert get_user_model().objects.get().username == "bob@example.com"
    assert signin(reader(), email="BOB@example.COM").status_code == 302
