"""A plain registry of reviewer backends, named `provider/model`.

Each entry is a dotted path imported only when that provider is used, so an optional SDK
is needed only by the publishers who choose it.
"""

from importlib import import_module

from shiporskip.panel.backends.base import ErrorKind, Reviewer, ReviewerError

BACKENDS = {
    "offline": "shiporskip.panel.backends.offline.OfflineReviewer",
    "openai": "shiporskip.panel.backends.openai_compat.OpenAICompatible",
    "ollama": "shiporskip.panel.backends.openai_compat.OllamaReviewer",
    "vllm": "shiporskip.panel.backends.openai_compat.VLLMReviewer",
    "llamacpp-server": "shiporskip.panel.backends.openai_compat.LlamaCppServerReviewer",
    "llamacpp": "shiporskip.panel.backends.llamacpp.LlamaCppReviewer",
}


def split_name(name: str) -> tuple[str, str]:
    provider, _, model = (name or "").strip().partition("/")
    return provider, model


def get_reviewer(name: str) -> Reviewer:
    """Return the backend for `provider/model`, or raise ReviewerError saying what exists."""
    provider, model = split_name(name)
    if provider not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise ReviewerError(
            f"unknown reviewer backend {name!r}; known providers: {known}", kind=ErrorKind.NOT_CONFIGURED
        )
    module_path, _, class_name = BACKENDS[provider].rpartition(".")
    cls = getattr(import_module(module_path), class_name)
    return cls(model)
