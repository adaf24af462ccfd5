"""Bookmarking tools: toggle or set, the bookmarks page and panel, in the three answer forms."""

from shiporskip.community.models import Bookmark
from tests.community import CODE_LLAMA, COMPARE, MISTRAL, reader

JSON = {"HTTP_ACCEPT": "application/json"}


def mark(client, slug=CODE_LLAMA, **data):
    return client.post(f"/tools/{slug}/bookmark", {"next": COMPARE, **data}, **JSON)


def test_toggle_and_idempotent_set(seed_pair):
    alice = reader()
    assert mark(alice).json() == {"tool": CODE_LLAMA, "bookmarked": True}
    assert mark(alice).json() == {"tool": CODE_LLAMA, "bookmarked": False}
    for _ in range(2):  # a double click on "Bookmark" keeps one bookmark
        assert mark(alice, bookmarked="1").json()["bookmarked"] is True
    assert Bookmark.objects.count() == 1
    mark(alice, bookmarked="0")
    mark(alice, bookmarked="0")
    assert Bookmark.objects.count() == 0


def test_bookmarks_page_and_panel(seed_pair):
    alice = reader()
    empty = alice.get("/bookmarks").content.decode()
    assert "No bookmarks yet" in empty and "Press ☆ Bookmark on any tool" in empty
    assert "No bookmarks yet" in alice.get("/bookmarks/panel").content.decode()
    mark(alice, MISTRAL)
    mark(alice, CODE_LLAMA)
    page = alice.get("/bookmarks")
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert html.index("Code Llama 4") < html.index("Mistral 3 Small")  # newest first
    panel = alice.get("/bookmarks/panel").content.decode()
    assert "Code Llama 4" in panel and "Mistral 3 Small (22B)" in panel
    assert "No bookmarks yet" in reader().get("/bookmarks").content.decode()  # only alice's


def test_htmx_answer_is_the_button_and_refreshes_the_panel(seed_pair):
    response = reader().post(f"/tools/{CODE_LLAMA}/bookmark", {"bookmarked": "1"}, HTTP_HX_REQUEST="true")
    assert "★ Bookmarked" in response.content.decode()
    assert "bookmarks-changed" in response["HX-Trigger"]


def test_no_javascript_path_confirms_then_redirects_back(seed_pair):
    alice = reader()
    confirm = alice.get(f"/tools/{CODE_LLAMA}/bookmark?bookmarked=1&next={COMPARE}").content.decode()
    assert "not in your bookmarks yet" in confirm and 'method="post"' in confirm
    assert Bookmark.objects.count() == 0
    response = alice.post(f"/tools/{CODE_LLAMA}/bookmark", {"bookmarked": "1", "next": COMPARE})
    assert response.status_code == 303 and response["Location"] == COMPARE


def test_bad_input_changes_nothing(seed_pair):
    alice = reader()
    assert mark(alice, "nope").status_code == 404
    bad = mark(alice, bookmarked="yes")
    assert bad.status_code == 400 and "bookmarked must be 1" in bad.json()["error"]
    assert Bookmark.objects.count() == 0


def test_me_reports_the_readers_state_without_making_a_session(seed_pair):
    stranger = reader()
    me = stranger.get(f"/me?tools={CODE_LLAMA},{MISTRAL}")
    assert me.json()["votes"] == {} and me.json()["user"] is None and me.json()["csrf"]
    assert "sessionid" not in me.cookies
    assert "private" in me["Cache-Control"] and "no-store" in me["Cache-Control"]
    alice = reader()
    mark(alice, MISTRAL)
    alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "skip"})
    state = alice.get(f"/me?tools={CODE_LLAMA},{MISTRAL}").json()
    assert state["votes"] == {CODE_LLAMA: "skip"} and state["bookmarked"] == [MISTRAL]


def test_me_is_two_queries_for_a_reader_with_votes_and_bookmarks(seed_pair, django_assert_num_queries):
    # Every page view of a returning reader asks /me: its session, then its votes and
    # bookmarks among the page's tools together, however many tools the page lists.
    alice = reader()
    mark(alice, MISTRAL)
    alice.post(f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship"})
    many = ",".join([CODE_LLAMA, MISTRAL, *(f"tool-{n}" for n in range(150))])
    with django_assert_num_queries(2):
        state = alice.get(f"/me?tools={many}").json()
    assert state["votes"] == {CODE_LLAMA: "ship"} and state["bookmarked"] == [MISTRAL]
    with django_assert_num_queries(1):  # no tools on the page: only the session
        assert alice.get("/me").json()["votes"] == {}
