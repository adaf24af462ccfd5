"""A model does not judge its own maker's tools, unless the publisher allows it and says so."""

import pytest

from shiporskip.catalog.models import Tool
from shiporskip.panel.families import maker_of, shared_maker
from shiporskip.panel.running import review_tool
from tests.chat_server import ChatServer

SELF_NOTE = "Reviewed by a model from the tool's own maker."


@pytest.mark.parametrize(
    ("model", "maker"),
    [
        ("openai/gpt-4o-mini", "OpenAI"),
        ("openai/o3-mini", "OpenAI"),
        ("ollama/gpt-oss:20b", "OpenAI"),
        ("openai/claude-3-5-haiku", "Anthropic"),
        ("ollama/qwen2.5:7b", "Alibaba/Qwen"),
        ("vllm/Qwen/Qwen2.5-7B-Instruct", "Alibaba/Qwen"),
        ("llamacpp/models/gemma-3-270m.gguf", "Google"),
        ("llamacpp-server/gemma", "Google"),
        ("openai/gemini-2.0-flash", "Google"),
        ("vllm/meta-llama/Llama-3.1-8B", "Meta"),
        ("ollama/codellama:7b", "Meta"),
        ("ollama/mistral-small:22b", "Mistral AI"),
        ("ollama/codestral", "Mistral AI"),
        ("ollama/deepseek-r1:8b", "DeepSeek"),
        ("vllm/deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "DeepSeek"),  # named for its maker first
        ("ollama/phi4-mini", "Microsoft"),
        ("ollama/phi-3.5", "Microsoft"),
        ("ollama/granite3.1-dense", "IBM"),
        ("ollama/command-r", "Cohere"),
    ],
)
def test_a_model_name_tells_its_maker(model, maker):
    assert maker_of(model).name == maker


@pytest.mark.parametrize(
    "model",
    [
        "offline",
        "openai/test-model",
        "llamacpp-server/local",
        "ollama/dolphin-mixup",
        "llamacpp/home/meta/gemma-models/my-finetune.gguf",
        "ollama",
    ],
)
def test_an_unrecognised_model_or_offline_is_in_no_family(model):
    assert maker_of(model) is None


@pytest.mark.parametrize(
    ("model", "vendor", "same"),
    [
        ("openai/gpt-4o-mini", "OpenAI", True),
        ("llamacpp-server/gemma", "Google (Google DeepMind)", True),
        ("ollama/qwen2.5:7b", "Alibaba Cloud (Qwen team)", True),
        ("vllm/meta-llama/Llama-3.1-8B", "Meta", True),
        ("ollama/phi4", "GitHub (Microsoft)", True),
        ("ollama/llama3.1", "ggml-org (Georgi Gerganov)", False),  # llama.cpp is not Meta's
        ("ollama/llama3.1", "Metaphor Systems", False),
        ("openai/gpt-4o-mini", "Nomic AI", False),
        ("offline", "OpenAI", False),
    ],
)
def test_the_vendor_string_says_whether_it_is_the_same_maker(model, vendor, same):
    assert (shared_maker(model, vendor) is not None) is same


@pytest.fixture
def server(monkeypatch, settings):
    chat = ChatServer()
    monkeypatch.setenv("OPENAI_BASE_URL", chat.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings.SHIPORSKIP_LLM = {**settings.SHIPORSKIP_LLM, "timeout": 5.0, "retry_base": 0.01}
    yield chat
    chat.close()


@pytest.fixture
def codex(catalog):
    return Tool.objects.select_related("category").get(vendor="OpenAI", name="OpenAI Codex CLI")


def test_a_self_review_fails_at_once_and_says_what_to_do(server, codex, client):
    run = review_tool(tool=codex, model="openai/gpt-4o-mini")
    assert (run.status, run.error_kind) == ("failed", "self_review")
    assert "made by OpenAI" in run.error and "SHIPORSKIP_ALLOW_SELF_REVIEW=true" in run.error
    assert "use a model from another maker" in run.error
    assert run.public_reason == "the model's maker also makes this tool, and self-review is off"
    assert server.requests == [] and not run.reviews.exists()
    assert Tool.objects.get(pk=codex.pk).current_run_id is None


def test_an_allowed_self_review_is_stored_and_marked_on_the_tool_page(server, codex, client, settings):
    settings.SHIPORSKIP_ALLOW_SELF_REVIEW = True
    run = review_tool(tool=codex, model="openai/gpt-4o-mini")
    assert run.status == "done", run.error
    assert [r.self_review for r in run.reviews.all()] == [True] * 4
    page = client.get(f"/tools/{codex.slug}").content.decode()
    assert page.count(SELF_NOTE) == 4


def test_other_makers_and_the_offline_panel_are_not_marked(server, codex, client):
    assert review_tool(tool=codex, model="offline").status == "done"
    mistral = Tool.objects.select_related("category").get(slug="mistral-3-small-22b")
    run = review_tool(tool=mistral, model="openai/gpt-4o-mini")
    assert run.status == "done" and not run.reviews.filter(self_review=True).exists()
    for tool in (codex, mistral):
        assert SELF_NOTE not in client.get(f"/tools/{tool.slug}").content.decode()
