"""The persona page's `clip` filter cuts text exactly where Django's truncatechars does."""

import random

from django.template.defaultfilters import truncatechars
from django.utils.safestring import SafeString, mark_safe

from shiporskip.panel.templatetags.reviews import clip

LETTERS = "ab <&\"'\u00e9\u0301\u2026x"


def samples() -> list[str]:
    fixed = ["", "a", "x" * 159, "x" * 160, "x" * 161, "y" * 500, "caf\u00e9 " * 50, "e\u0301" * 200]
    rng = random.Random(7)
    drawn = ["".join(rng.choice(LETTERS) for _ in range(rng.randint(0, 300))) for _ in range(500)]
    ascii_only = ["".join(rng.choice("ab <&\"'x") for _ in range(rng.randint(0, 300))) for _ in range(500)]
    return fixed + drawn + ascii_only


def test_clip_is_truncatechars():
    for text in samples():
        for length in (-1, 0, 1, 2, 5, 159, 160, 161):
            assert clip(text, length) == truncatechars(text, length), (text, length)


def test_clip_keeps_what_is_safe_and_escapes_the_rest():
    assert isinstance(clip(mark_safe("<b>" * 100), 160), SafeString)  # noqa: S308 - a test of it
    assert not isinstance(clip("<b>" * 100, 160), SafeString)
