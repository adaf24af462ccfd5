"""Reviewers on any OpenAI-compatible server, through the official `openai` SDK.

Each provider is a few lines of data over one class: where the server is, which key it needs,
and the structured-output mode it understands best. Servers differ: OpenAI and vLLM take a
`json_schema` response format; llama.cpp's server wants `json_object` with a `schema`; others
only follow the instructions in the prompt. A server that refuses a mode is asked again in
the next one down, once, and keeps that mode for the rest of the run.

Transient failures (429 with its Retry-After, 5xx, timeouts, lost connections) are retried by
the SDK itself (`max_retries`, backing off with jitter); a refused mode is marked final for it
(`final_refusal`), so the next mode is asked at once instead of after the SDK's retries.
"""

import datetime
import email.utils
import functools
import threading
import time

from django.conf import settings

from shiporskip.conf import setting
from shiporskip.panel.backends.base import Completion, ErrorKind, ReviewerError
from shiporskip.panel.backends.chat import ChatReviewer, NotACompletion, sampling_for
from shiporskip.panel.replies import grammar_schema

MODES = ["json_schema", "json_object", "instructions"]
FORMAT_WORDS = ("response_format", "json_schema", "schema", "grammar", "format")
REFUSAL_STATUSES = {400, 422, 500, 501}


class OpenAICompatible(ChatReviewer):
    """A provider is where its server is and which key it takes: variables in conf.SETTINGS."""

    provider = "openai"
    base_url_env = "OPENAI_BASE_URL"  # unset: the SDK's own, api.openai.com
    key_env: str | None = "OPENAI_API_KEY"
    key_required = True
    default_mode = "json_schema"

    def __init__(self, model: str = ""):
        super().__init__(model)
        self.base_url = setting(self.base_url_env) or None
        self.api_key = setting(self.key_env) if self.key_env else ""
        if self.key_required and not self.api_key and not self.base_url:
            raise ReviewerError(
                f"{self.provider}/ needs an API key: set {self.key_env}", kind=ErrorKind.NOT_CONFIGURED
            )
        self.mode = settings.SHIPORSKIP_STRUCTURED_OUTPUT or self.default_mode
        self._lock = threading.Lock()

    @property
    def client(self):
        return client_for(self.base_url, self.api_key or "not-needed", self.policy.timeout)

    def complete(self, messages: list[dict], schema: dict, sample: int = 0, retries: int = 0) -> Completion:
        import openai

        while True:
            mode = self.mode
            try:
                raw = self.client.with_options(max_retries=retries).chat.completions.with_raw_response.create(
                    model=self.model,
                    messages=messages,
                    max_tokens=self.policy.max_tokens,
                    **sampling_for(self.policy, messages, sample),
                    **response_format(mode, schema),
                )
            except openai.APIStatusError as exc:
                if self._downgrade(mode, exc):
                    continue
                raise status_error(exc, self) from None
            except openai.APITimeoutError:
                raise ReviewerError(
                    f"{self.name}: no answer within {self.policy.timeout:g} s",
                    kind=ErrorKind.TIMEOUT,
                    retryable=True,
                ) from None
            except openai.APIConnectionError as exc:
                raise ReviewerError(
                    f"{self.name}: cannot reach {self.base_url or 'the API'}: {exc.__cause__ or exc}",
                    kind=ErrorKind.UNREACHABLE,
                    retryable=True,
                ) from None
            except openai.APIResponseValidationError as exc:
                raise NotACompletion(
                    f"{self.name}: the server's answer is not a chat completion: {exc}"
                ) from None
            return completion_of(raw.parse(), self, retries=raw.retries_taken)

    def _downgrade(self, mode: str, exc) -> bool:
        """Step down one structured-output mode when the server refuses this one."""
        text = str(getattr(exc, "message", "")) + str(getattr(exc, "body", ""))
        if not refuses_format(exc.status_code, text) or mode == MODES[-1]:
            return False
        with self._lock:
            if self.mode == mode:
                self.mode = MODES[MODES.index(mode) + 1]
        return True


def refuses_format(status: int, text: str) -> bool:
    """Whether an error answer refuses the structured-output mode it was asked in."""
    return status in REFUSAL_STATUSES and any(word in text.lower() for word in FORMAT_WORDS)


def final_refusal(response) -> None:
    """httpx response hook: a server that refuses a structured-output mode will refuse it
    again, so tell the SDK not to retry it (its `x-should-retry` header), and step down now."""
    if response.status_code in REFUSAL_STATUSES and b"response_format" in response.request.content:
        response.read()
        if refuses_format(response.status_code, response.text):
            response.headers["x-should-retry"] = "false"


@functools.lru_cache(maxsize=16)
def client_for(base_url: str | None, api_key: str, timeout: float):
    """One SDK client per server and key, shared by runs: its connection pool is reused.

    Each call sets its own `max_retries` (ChatReviewer's budget); the SDK's retries honour
    Retry-After and back off with jitter.
    """
    import openai

    http = openai.DefaultHttpxClient(event_hooks={"response": [final_refusal]})
    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, http_client=http)


def response_format(mode: str, schema: dict) -> dict:
    if mode == "json_schema":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "review", "schema": schema, "strict": False},
            }
        }
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": grammar_schema(schema)}}
    return {}


def completion_of(response, reviewer, retries: int = 0) -> Completion:
    choices = getattr(response, "choices", None)
    if not choices:
        raise NotACompletion(f"{reviewer.name}: the server's answer has no choices", retries=retries)
    usage = getattr(response, "usage", None)
    return Completion(
        text=choices[0].message.content or "",
        tokens_in=getattr(usage, "prompt_tokens", 0) or 0,
        tokens_out=getattr(usage, "completion_tokens", 0) or 0,
        finish_reason=choices[0].finish_reason or "",
        retries=retries,
    )


def status_error(exc, reviewer) -> ReviewerError:
    """429 and 5xx may pass; other 4xx (bad key, unknown model) never will: fail at once."""
    status = exc.status_code
    retryable = status == 429 or status == 408 or status >= 500
    hint = {
        401: f" (check {reviewer.key_env})",
        403: f" (check {reviewer.key_env})",
        404: f" (is `{reviewer.model}` served at {reviewer.base_url or 'the API'}?)",
    }
    return ReviewerError(
        f"{reviewer.name}: HTTP {status}: {exc.message}{hint.get(status, '')}",
        kind=kind_of_status(status),
        retryable=retryable,
        retry_after=retry_after(exc.response),
    )


STATUS_KINDS = {
    401: ErrorKind.AUTH,
    403: ErrorKind.AUTH,
    404: ErrorKind.BAD_MODEL,
    408: ErrorKind.TIMEOUT,
    429: ErrorKind.RATE_LIMIT,
}


def kind_of_status(status: int) -> ErrorKind:
    """The kind of an HTTP failure; another 4xx is a request this model will not take."""
    if status in STATUS_KINDS:
        return STATUS_KINDS[status]
    return ErrorKind.SERVER_ERROR if status >= 500 else ErrorKind.BAD_MODEL


def retry_after(response) -> float | None:
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: the SDK backs off on its own
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - time.time())


class OllamaReviewer(OpenAICompatible):
    provider = "ollama"
    base_url_env = "OLLAMA_BASE_URL"
    key_env = None
    key_required = False


class VLLMReviewer(OpenAICompatible):
    provider = "vllm"
    base_url_env = "VLLM_BASE_URL"
    key_env = "VLLM_API_KEY"
    key_required = False


class LlamaCppServerReviewer(OpenAICompatible):
    provider = "llamacpp-server"
    base_url_env = "LLAMACPP_SERVER_URL"
    key_env = "LLAMACPP_SERVER_API_KEY"
    key_required = False
    default_mode = "json_object"  # its server answers 500 to json_schema
