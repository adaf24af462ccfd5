"""In-process GGUF models through llama-cpp-python (the optional `local` extra)."""

import atexit
import functools
import threading
import weakref
from pathlib import Path

from django.conf import settings

from shiporskip.panel.backends.base import Completion, ErrorKind, ReviewerError
from shiporskip.panel.backends.chat import ChatReviewer, sampling_for
from shiporskip.panel.replies import grammar_schema

_lock = threading.Lock()  # a llama.cpp context serves one call at a time


@functools.lru_cache(maxsize=2)
def load(path: str, n_ctx: int, chat_format: str | None):
    try:
        from llama_cpp import Llama
    except ImportError:
        raise ReviewerError(
            "llamacpp/ needs llama-cpp-python: pip install 'shiporskip[local]'", kind=ErrorKind.NOT_CONFIGURED
        ) from None
    model = Llama(model_path=path, n_ctx=n_ctx, chat_format=chat_format, verbose=False)
    _loaded.add(model)
    return model


# The models still loaded at exit, closed while llama_cpp's module is whole: left to the
# interpreter's teardown, their finalizer found the module's functions gone and printed a
# TypeError after every run that loaded one (the review command's, the tests'). Weakly held:
# a model the cache lets go of is freed then, not kept for the exit.
_loaded: "weakref.WeakSet" = weakref.WeakSet()


@atexit.register
def _close_loaded() -> None:
    for model in list(_loaded):
        model.close()


class LlamaCppReviewer(ChatReviewer):
    provider = "llamacpp"

    def __init__(self, model: str = ""):
        super().__init__(model)
        if not Path(model).expanduser().is_file():
            raise ReviewerError(
                f"llamacpp/{model}: no GGUF file there; give its path, "
                "e.g. llamacpp/models/qwen2.5-7b-q4_k_m.gguf",
                kind=ErrorKind.NOT_CONFIGURED,
            )
        self.max_concurrency = 1

    def complete(self, messages: list[dict], schema: dict, sample: int = 0, retries: int = 0) -> Completion:
        # In process, no failure here is transient (a bad GGUF, a prompt past the context):
        # `retries` has nothing to retry.
        try:
            llm = load(
                str(Path(self.model).expanduser()),
                settings.SHIPORSKIP_LLAMACPP_CTX,
                settings.SHIPORSKIP_LLAMACPP_CHAT_FORMAT or None,
            )
            with _lock:
                response = llm.create_chat_completion(
                    messages=messages,
                    max_tokens=self.policy.max_tokens,
                    **sampling_for(self.policy, messages, sample),
                    response_format={"type": "json_object", "schema": grammar_schema(schema)},
                )
        except ValueError as exc:  # a bad GGUF, or a prompt past the context window
            raise ReviewerError(
                f"{self.name}: {exc} (SHIPORSKIP_LLAMACPP_CTX sets the context)", kind=ErrorKind.BAD_MODEL
            ) from None
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return Completion(
            text=choice["message"]["content"] or "",
            tokens_in=usage.get("prompt_tokens", 0),
            tokens_out=usage.get("completion_tokens", 0),
            finish_reason=choice.get("finish_reason") or "",
        )
