"""The panel on a real model: llama.cpp's server and in-process llama-cpp-python, Gemma 3 270M.

The model is tiny and writes poor prose; these tests are about the protocol, the schema and
the repairs. The figures (repairs, retries, failed runs) are printed for the issue's note.
"""

import os
import re

import pytest

from shiporskip.catalog.models import Tool
from shiporskip.cli import main
from shiporskip.panel.backends import get_reviewer
from shiporskip.panel.models import PanelRun, Persona, Review, ReviewAttempt
from shiporskip.panel.running import build_request, review_tool, snapshot
from tests.llama_server import gemma_path, start_llama_server

pytestmark = pytest.mark.llm
MODEL = "llamacpp-server/gemma"
RUNS = int(os.environ.get("SHIPORSKIP_TEST_LLM_RUNS", "10"))


@pytest.fixture(scope="session")
def llama_url():
    with start_llama_server() as url:
        yield url


@pytest.fixture
def real_llm(llama_url, monkeypatch, settings):
    monkeypatch.setenv("LLAMACPP_SERVER_URL", llama_url)
    # The server answers one request at a time on 2 cores: allow for the queue. A reply that
    # goes wrong with this model usually loops: a short budget and one repair bound the time.
    settings.SHIPORSKIP_LLM = {**settings.SHIPORSKIP_LLM, "timeout": 600, "max_tokens": 400,
                               "repair_attempts": 1}


def assert_valid(review: Review) -> None:
    persona = review.persona
    assert 0 <= review.score <= 100
    assert review.verdict == ("ship" if review.score >= persona.ship_threshold else "skip")
    assert set(review.sections) == {s["key"] for s in persona.sections}
    assert all(text.strip() for text in review.sections.values())
    assert set(review.criteria) == {c["key"] for c in persona.criteria}
    assert review.model == MODEL and review.tokens_in > 0 and review.tokens_out > 0


def test_full_panels_on_a_real_llama_cpp_server(catalog, real_llm, capsys):
    # Ten different tools: the server's sampling is seeded, so one tool ten times would
    # mostly measure one reply ten times.
    tools = list(Tool.objects.select_related("category").filter(
        category__slug__in=["developer-tools", "local-inference"]).order_by("slug")[:RUNS])
    runs = [review_tool(tool=tool, model=MODEL, force=True) for tool in tools]
    done = [r for r in runs if r.status == "done"]
    reviews = Review.objects.filter(run__in=done).select_related("persona")
    for review in reviews:
        assert_valid(review)
    for run in runs:
        if run.status == "failed":
            assert not run.reviews.exists() and run.error
    repaired = sum(1 for r in reviews if any(not n.startswith("retry") for n in r.repairs))
    retried = sum(1 for r in reviews if any(n.startswith("retry") for n in r.repairs))
    with capsys.disabled():
        print(f"\nllama.cpp Gemma 3 270M, {len(runs)} panel runs: {len(done)} done, "
              f"{len(runs) - len(done)} failed; of {reviews.count()} stored reviews {repaired} "
              f"needed a repair and {retried} a retry with feedback; "
              f"{ReviewAttempt.objects.filter(run__in=runs).count()} replies sent back; "
              f"failures: {[r.error[:120] for r in runs if r.status == 'failed']}")
    assert len(runs) >= 10 or RUNS < 10
    assert done, "no panel run completed on the real model"
    assert all(r.reviews.count() == 4 for r in done)


def test_review_command_and_tool_page_with_the_llama_server(catalog, real_llm, client, capsys):
    for _ in range(3):  # the tiny model may fail a whole run; the CLI says so
        code = main(["review", "code-llama-4", "--model", MODEL, "--force"])
        if code == 0:
            break
    assert code == 0, capsys.readouterr().err
    tool = Tool.objects.get(slug="code-llama-4")
    run = PanelRun.objects.get(pk=tool.current_run_id)
    assert run.model == MODEL and run.reviews.count() == 4
    for review in run.reviews.select_related("persona"):
        assert_valid(review)
    page = client.get("/tools/code-llama-4").content.decode()
    assert page.count(f"Written by <code>{MODEL}</code>") == 4
    assert len(re.findall(r"\d+/100 · (?:ship|skip)", page)) == 4


def test_in_process_gguf_review(catalog, settings):
    settings.SHIPORSKIP_LLAMACPP_CHAT_FORMAT = "gemma"
    settings.SHIPORSKIP_LLM = {**settings.SHIPORSKIP_LLM, "max_tokens": 400}
    reviewer = get_reviewer(f"llamacpp/{gemma_path()}")
    persona = Persona.objects.get(key="builder")
    tool = snapshot(Tool.objects.select_related("category").get(slug="ollama"))
    result = reviewer.review(build_request(persona, tool))
    reply = result.reply
    assert 0 <= reply.score <= 100 and reply.verdict == persona.verdict_for(reply.score)
    assert set(reply.sections) == {s["key"] for s in persona.sections}
    assert all(text.strip() for text in reply.sections.values())
    assert result.tokens_in > 0 and result.model.startswith("llamacpp/")
