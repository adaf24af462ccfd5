"""Casting, changing and taking back a vote, in the three answer forms."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shiporskip.community.models import Vote
from tests.community import CODE_LLAMA, COMPARE, counts, reader, statements_run

JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def vote(client, verdict, slug=CODE_LLAMA, **headers):
    return client.post(f"/tools/{slug}/vote", {"verdict": verdict, "next": COMPARE}, **headers)


def test_vote_change_and_take_back(seed_pair):
    alice = reader()
    assert vote(alice, "ship", **JSON).json() == {
        "tool": CODE_LLAMA,
        "your_vote": "ship",
        "community": {"ship": 1, "skip": 0},
    }
    assert vote(alice, "skip", **JSON).json()["community"] == {"ship": 0, "skip": 1}
    assert vote(alice, "none", **JSON).json() == {
        "tool": CODE_LLAMA,
        "your_vote": None,
        "community": {"ship": 0, "skip": 0},
    }
    assert Vote.objects.count() == 0


def test_one_vote_per_reader_however_often_they_click(seed_pair):
    alice, bob = reader(), reader()
    for _ in range(3):
        vote(alice, "ship")
    vote(bob, "skip")
    assert counts(CODE_LLAMA) == {"ship": 1, "skip": 1}


def test_unique_constraint_holds_without_the_view(seed_pair):
    from django.db import IntegrityError

    tool = seed_pair[0]
    Vote.objects.create(tool=tool, voter="a:x", verdict="ship")
    with pytest.raises(IntegrityError):
        Vote.objects.create(tool=tool, voter="a:x", verdict="skip")


def test_without_javascript_a_vote_redirects_back(seed_pair):
    response = vote(reader(), "ship")
    assert response.status_code == 303 and response["Location"] == COMPARE


def test_redirect_back_refuses_other_sites(seed_pair):
    response = reader().post(
        f"/tools/{CODE_LLAMA}/vote", {"verdict": "ship", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/tools/{CODE_LLAMA}"


def test_htmx_gets_the_updated_widget_and_a_tally_event(seed_pair):
    response = vote(reader(), "skip", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="skip" class="vote-btn vote-skip" aria-pressed="true"' in html
    assert 'value="none" class="vote-btn vote-none">' in html  # take back now offered
    assert '"label": "Skip 100% \\u00b7 1 vote"' in response["HX-Trigger"]


def test_tally_shows_on_cards_and_the_comparison(seed_pair):
    for verdict in ["ship"] * 17 + ["skip"] * 8:
        vote(reader(), verdict)
    text = reader().get(COMPARE).content.decode()
    assert text.count("Ship 68% · 25 votes") == 2  # the card and the decision table
    assert "No community votes yet" in text  # the other tool


def test_unknown_tool_is_404_and_changes_nothing(seed_pair):
    assert vote(reader(), "ship", slug="no-such-tool").status_code == 404
    assert Vote.objects.count() == 0


def test_a_reader_keeps_their_votes_after_naming_an_unknown_tool(seed_pair):
    # A 404 drops only a voter id made by that request: a returning reader's stays theirs.
    alice = reader(HTTP_ACCEPT="application/json")
    assert vote(alice, "ship").status_code == 200
    assert vote(alice, "skip", slug="no-such-tool").status_code == 404
    assert alice.get(f"/me?tools={CODE_LLAMA}").json()["votes"] == {CODE_LLAMA: "ship"}


@pytest.mark.parametrize("verdict", ["maybe", "", "SHIP"])
def test_bad_verdict_is_400_with_a_message(seed_pair, verdict):
    alice = reader()
    vote(alice, "ship")
    page = vote(alice, verdict)
    assert page.status_code == 400 and "verdict must be ship, skip or none" in page.content.decode()
    assert vote(alice, verdict, **JSON).json() == {
        "error": "verdict must be ship, skip or none (none takes your vote back)."
    }
    assert "verdict must be" in vote(alice, verdict, **HTMX).content.decode()
    assert counts(CODE_LLAMA) == {"ship": 1, "skip": 0}


def test_get_shows_a_confirm_form_and_changes_nothing(seed_pair):
    page = reader().get(f"/tools/{CODE_LLAMA}/vote?verdict=skip&next={COMPARE}")
    html = page.content.decode()
    assert page.status_code == 200 and "Press <strong>Skip</strong> to confirm" in html
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    assert "no-store" in page["Cache-Control"]
    assert Vote.objects.count() == 0


def test_json_api_and_cli_carry_the_community_tally(seed_pair, capsys):
    from shiporskip.cli import main

    vote(reader(), "ship")
    vote(reader(), "skip")
    api = reader().get(f"/api/compare/{CODE_LLAMA}/mistral-3-small-22b").json()
    assert [t["community"] for t in api["tools"]] == [{"ship": 1, "skip": 1}, {"ship": 0, "skip": 0}]
    assert reader().get(f"/api/tools/{CODE_LLAMA}").json()["community"] == {"ship": 1, "skip": 1}
    listed = {t["slug"]: t["community"] for t in reader().get("/api/tools").json()}
    assert listed[CODE_LLAMA] == {"ship": 1, "skip": 1}
    assert main(["compare", CODE_LLAMA, "mistral-3-small-22b", "--json"]) == 0
    assert '"community": {\n        "ship": 1,\n        "skip": 1\n      }' in capsys.readouterr().out
    assert main(["compare", CODE_LLAMA, "mistral-3-small-22b"]) == 0
    assert "Split 50% · 2 votes" in capsys.readouterr().out


def test_pages_say_when_panel_and_community_disagree(seed_pair):
    for _ in range(4):
        vote(reader(), "skip")
    assert "disagree" not in reader().get(COMPARE).content.decode()  # four votes: too few to tell
    vote(reader(), "skip")
    vote(reader(), "ship")
    note = (
        "Code Llama 4: The panel and the community disagree: the panel says Ship, readers mostly "
        "say Skip (Skip 83% · 6 votes)."
    )
    assert note in reader().get(COMPARE).content.decode()
    tool_page = reader().get(f"/tools/{CODE_LLAMA}").content.decode()
    assert "the panel says Ship, readers mostly say Skip" in tool_page


def test_a_bad_vote_or_bookmark_makes_no_session(seed_pair):
    from django.contrib.sessions.models import Session

    stranger = reader()
    assert vote(stranger, "maybe").status_code == 400
    assert stranger.post(f"/tools/{CODE_LLAMA}/bookmark", {"bookmarked": "yes"}).status_code == 400
    assert stranger.get(f"/tools/{CODE_LLAMA}/vote").status_code == 200  # a look makes none either
    assert not Session.objects.exists() and "sessionid" not in stranger.cookies


@pytest.mark.parametrize(
    "url",
    [
        "/me?tools=%00,code-llama-4",
        "/compare/?a=%00&b=code-llama-4",
        "/compare/code-llama-4-vs-%00",
        "/newsletter/unsubscribe/%00",
    ],
)
def test_nul_bytes_and_junk_never_reach_a_query(seed_pair, url):
    # Refused by name before any view (shiporskip/middleware.py); a NUL that reached
    # PostgreSQL would fail the query: a 500.
    assert reader().get(url).status_code == 400


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize("verdict", ["ship", "none"])
def test_a_vote_and_its_rate_counters_are_one_statement_on_postgresql(seed_pair, verdict):
    # BEGIN, the counters, the vote and COMMIT were four round trips, and a vote ran at half the
    # rate of GET /me (bench/votes.py): now the counters and the write share one statement.
    alice = reader()
    vote(alice, "skip", **JSON)
    answers = []
    ran, sent = statements_run(lambda: answers.append(vote(alice, verdict, **JSON)))
    assert answers[0].status_code == 200
    # The statement finds the tool by its slug, and the tool and the tally the answer shows come
    # back in the same round trip, read after the vote in its transaction: two prepared
    # statements, each run once; Django's cursor sent the session's read alone.
    writes = [sql for sql in ran if sql.startswith("WITH counted AS")]
    assert len(writes) == 1 and "community_vote" in writes[0] and "community_ratecounter" in writes[0], ran
    assert len(ran) == 2 and set(ran.values()) == {1}, ran
    assert any("LEFT JOIN community_toolvotes" in sql for sql in ran), ran
    assert len(sent) == 1 and "django_session" in sent[0], sent
    assert counts(CODE_LLAMA) == ({"ship": 1, "skip": 0} if verdict == "ship" else {"ship": 0, "skip": 0})
    assert answers[0].json()["community"] == counts(CODE_LLAMA)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_vote_is_planned_once_per_connection_on_postgresql(seed_pair):
    # Planning the vote's statement cost PostgreSQL twice what running it did: it is prepared
    # with its values bound, so every vote of the same shape runs the same statement.
    readers = [reader() for _ in range(3)]
    first, _ = statements_run(lambda: vote(readers[0], "ship", **JSON))
    later, _ = statements_run(lambda: [vote(r, "ship", **JSON) for r in readers[1:] for _ in range(2)])
    assert set(later) == set(first) and set(later.values()) == {4}, (first, later)
    assert all("%s" not in sql and "$1" in sql for sql in later), later  # bound, not spelled out


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_with_server_side_binding_the_tally_is_read_on_its_own(seed_pair, monkeypatch):
    # psycopg's server-side binding (a DATABASE_URL option) prepares each execute() as one
    # statement: the vote and its tally's read, sent together, failed with "cannot insert
    # multiple commands into a prepared statement". Then they go as two.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)
    alice = reader()
    vote(alice, "skip", **JSON)
    with CaptureQueriesContext(connection) as queries:
        answer = vote(alice, "ship", **JSON)
    assert answer.status_code == 200 and answer.json()["community"] == {"ship": 1, "skip": 0}
    assert not any(";" in q["sql"] for q in queries), queries


def indexed(table: str) -> list[tuple[str, ...]]:
    """The column lists a table's indexes cover, the primary key's and the unique ones' included."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return sorted(
        {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"] or c["primary_key"]}
    )


@pytest.mark.django_db
def test_a_vote_or_a_bookmark_writes_only_the_indexes_a_read_needs():
    # Each index is one more B-tree every vote writes; one on the verdict also made each changed
    # vote a non-HOT update on PostgreSQL. The unique pairs serve the lookups by tool, the
    # voter's and owner's indexes a reader's own marks (GET /me, the bookmarks page).
    assert indexed("community_vote") == [("id",), ("tool_id", "voter"), ("voter",)]
    assert indexed("community_bookmark") == [("id",), ("owner", "created_at"), ("tool_id", "owner")]


@pytest.mark.django_db
def test_the_votes_and_bookmarks_of_a_tool_are_found_by_index(seed_pair):
    # A tool's deletion cascades to its votes and bookmarks by tool_id: no scan of either table.
    for table in ["community_vote", "community_bookmark"]:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE tool_id = 1")  # noqa: S608
                plan = " ".join(str(row[-1]) for row in cursor.fetchall())
                assert "USING INDEX" in plan and "(tool_id=?)" in plan, plan
            else:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN SELECT * FROM {table} WHERE tool_id = 1")  # noqa: S608
                plan = " ".join(row[0] for row in cursor.fetchall())
                assert "Index" in plan and "one_" in plan, plan
