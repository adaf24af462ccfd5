"""How a tool's verdict was made, in words a reader follows: which model wrote it, and when.

The stored details (backend name, prompt hashes) stay available, behind a disclosure on the
tool page; the sentence says what they mean.
"""

from dataclasses import dataclass, field
from datetime import datetime

from shiporskip.panel.models import Review, model_label

# provider/ prefix -> how a reader knows it
PROVIDERS = {
    "openai": "OpenAI model",
    "ollama": "Ollama model",
    "vllm": "vLLM model",
    "llamacpp-server": "llama.cpp server model",
    "llamacpp": "llama.cpp model",
}
OFFLINE = "the offline reviewer (rules over the tool's published facts, no language model)"


def model_in_words(name: str) -> str:
    """How a reader knows the model: 'llamacpp/m/gemma-3-270m.gguf' -> llama.cpp model gemma-3-270m."""
    if name == "offline":
        return OFFLINE
    provider, _, model = model_label(name).partition("/")
    if provider == "llamacpp":
        model = model.removesuffix(".gguf")
    kind = PROVIDERS.get(provider)
    return f"{kind} {model}" if kind and model else f"the model {name}"


@dataclass
class Authorship:
    """The reviews one model wrote for a panel: who, when, and the prompt each persona got."""

    model: str
    words: str
    written: datetime
    samples: int = 1
    prompts: list[tuple[str, str]] = field(default_factory=list)  # (persona name, prompt version)


def how_made(reviews: list[Review]) -> list[Authorship]:
    """One entry per model that wrote the panel's current reviews (one, unless a run mixed them)."""
    by_model: dict[str, Authorship] = {}
    for review in reviews:
        entry = by_model.get(review.model)
        if entry is None:
            entry = by_model[review.model] = Authorship(
                model=model_label(review.model),
                words=model_in_words(review.model),
                written=review.created_at,
                samples=review.samples,
            )
        entry.written = max(entry.written, review.created_at)
        entry.samples = max(entry.samples, review.samples)
        entry.prompts.append((review.persona.name, review.prompt_version))
    return list(by_model.values())
