"""Which company made a model, and whether it also makes the tool under review.

A judge should not grade its own maker's products: a run whose model comes from the tool's
vendor fails (kind self_review) unless SHIPORSKIP_ALLOW_SELF_REVIEW is true, and then its
reviews are marked. Makers are told by name patterns, so an unrecognised model (a local
fine-tune, a made-up name behind an OpenAI-compatible server) belongs to no family.
"""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings

from shiporskip.panel.backends import split_name
from shiporskip.panel.backends.base import ErrorKind, ReviewerError


@dataclass(frozen=True)
class Maker:
    name: str
    models: re.Pattern  # searched in the model part of provider/model, lower-cased
    vendors: re.Pattern  # searched in a tool's vendor string, lower-cased


def _maker(name: str, models: str, vendors: str) -> Maker:
    return Maker(name, re.compile(models), re.compile(vendors))


# A letter or digit must not touch a short name on either side ("o1", "phi-3", "yi-").
_ALONE = r"(?<![a-z0-9]){}(?![a-z])"

# Ties on where a pattern is found go to the earlier maker: those named after GPT come first.
MAKERS = [
    _maker("EleutherAI", r"eleutherai|gpt-j|gpt-neo|pythia", r"eleutherai"),
    _maker("Nomic AI", r"gpt4all|nomic", r"\bnomic\b"),
    _maker("OpenAI", r"gpt|chatgpt|davinci|codex|whisper|" + _ALONE.format(r"o[134]"), r"\bopenai\b"),
    _maker("Anthropic", r"claude|anthropic", r"\banthropic\b"),
    _maker("Google", r"gemini|gemma|bard|google|" + _ALONE.format("palm"), r"\bgoogle\b|deepmind"),
    _maker("Meta", r"llama|meta-llama|facebook|" + _ALONE.format("meta"), r"\bmeta\b|facebook"),
    _maker("Alibaba/Qwen", r"qwen|qwq|alibaba", r"alibaba|qwen"),
    _maker("Mistral AI", r"mistral|mixtral|codestral|ministral|magistral|devstral|pixtral", r"\bmistral\b"),
    _maker("DeepSeek", r"deepseek", r"deepseek"),
    _maker("Microsoft", r"microsoft|wizardlm|" + _ALONE.format(r"phi-?\d"), r"microsoft|github"),
    _maker("Cohere", r"cohere|command-r|command-a|" + _ALONE.format("aya"), r"\bcohere\b"),
    _maker("xAI", r"grok|" + _ALONE.format("xai"), r"\bxai\b|\bx\.ai\b"),
    _maker("NVIDIA", r"nvidia|nemotron", r"\bnvidia\b"),
    _maker("IBM", r"granite|" + _ALONE.format("ibm"), r"\bibm\b"),
    _maker("Amazon", r"amazon|titan-|nova-", r"\bamazon\b|\baws\b"),
    _maker("Ai2", r"olmo|allenai|tulu", r"allen institute|\bai2\b"),
    _maker("BigCode", r"starcoder|bigcode", r"\bbigcode\b"),
    _maker("Zhipu AI", r"chatglm|" + _ALONE.format("glm"), r"zhipu|\bz\.ai\b"),
    _maker("Moonshot AI", r"kimi|moonshot", r"moonshot"),
]


def maker_of(model: str) -> Maker | None:
    """The maker of `provider/model`, by the pattern found first in its name; None if unknown."""
    provider, name = split_name(model)
    if provider == "offline" or not name:
        return None
    if provider == "llamacpp":  # a file path: only the file's name says what it is
        name = PurePosixPath(name).name
    name = name.lower()
    found = [(m.start(), i, maker) for i, maker in enumerate(MAKERS) if (m := maker.models.search(name))]
    return min(found)[2] if found else None


def makes(maker: Maker, vendor: str) -> bool:
    """True when the vendor string names this maker (or a company it owns)."""
    return bool(maker.vendors.search(vendor.lower()))


def shared_maker(model: str, vendor: str) -> Maker | None:
    """The maker of the model if it also makes the tool, else None."""
    maker = maker_of(model)
    return maker if maker and makes(maker, vendor) else None


def check_judge(model: str, vendor: str) -> bool:
    """Return whether the run is a self-review; raise if it is one and that is not allowed."""
    maker = shared_maker(model, vendor)
    if maker is None:
        return False
    if settings.SHIPORSKIP_ALLOW_SELF_REVIEW:
        return True
    raise ReviewerError(
        f"{model} is made by {maker.name}, which also makes this tool ({vendor}): use a model "
        "from another maker, or set SHIPORSKIP_ALLOW_SELF_REVIEW=true to store its reviews "
        "marked as self-reviews",
        kind=ErrorKind.SELF_REVIEW,
    )
