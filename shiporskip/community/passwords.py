"""Password validators for what Django's own let through: blanks, the site's name, and patterns.

Django's validators check length, the user's own details, an exact match against 20,000
common passwords, and all digits. A guesser tries variations first, though: `Summer2024!`,
`P@ssw0rd1`, `qwerty123`, `1qaz2wsx`, the site's own name with a year. These refuse those,
each with a message that says what is wrong, so a reader knows what to change.
"""

import re
import string

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

SITE_NAMES = ("shiporskip", "skiporship", "shipskip", "shiporskipcom")
# Look-alike characters folded back to the letter they stand for ("sh1p0r$k1p" is the name).
LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "!": "i",
        "|": "i",
        "3": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "+": "t",
        "8": "b",
        "9": "g",
    }
)
# Keyboard rows as typed in order; a column walk (1qaz) steps to the same index on the next row.
ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
KEY_AT = {key: (row, col) for row, keys in enumerate(ROWS) for col, key in enumerate(keys)}
# Digits, punctuation and spaces around a word add little: a guesser appends them first.
FILLER = string.digits + string.punctuation + " "
MOST_FILLER = 8  # more than this many filler characters is not a small variation any more


class NotBlankValidator:
    """Refuse a password of spaces (or tabs, or nothing but blanks of any kind)."""

    def validate(self, password, user=None):
        if not password.strip():
            raise ValidationError(
                "This password is only spaces: use letters, digits or symbols too.", code="password_blank"
            )

    def get_help_text(self):
        return "Your password can't be only spaces."


class SiteNameValidator:
    """Refuse a password built on the site's name: the first thing anyone guesses here."""

    def validate(self, password, user=None):
        folded = re.sub(r"[^a-z]", "", password.lower().translate(LEET))
        plain = re.sub(r"[^a-z]", "", password.lower())
        for letters in {folded, plain}:
            for name in SITE_NAMES:
                if name in letters and len(letters.replace(name, "", 1)) < 6:
                    raise ValidationError(
                        "This password is built on the site's name (Ship or Skip): choose "
                        "something else, such as a few unrelated words.",
                        code="password_site_name",
                    )

    def get_help_text(self):
        return "Your password can't be built on the site's name."


def predictable_step(a: str, b: str) -> bool:
    """Is b what a guesser expects after a: the same key, the next letter or digit, or a neighbour key?"""
    if a == b or (a.isalnum() and b.isalnum() and abs(ord(a) - ord(b)) == 1):
        return True
    if a in KEY_AT and b in KEY_AT:
        (row_a, col_a), (row_b, col_b) = KEY_AT[a], KEY_AT[b]
        return (row_a == row_b and abs(col_a - col_b) == 1) or (abs(row_a - row_b) == 1 and col_a == col_b)
    return False


def runs(text: str) -> int:
    """How many predictable runs text splits into: `qwerty123` is two, a random string about its length."""
    return 1 + sum(not predictable_step(a, b) for a, b in zip(text, text[1:], strict=False)) if text else 0


def is_walk(text: str) -> bool:
    """A keyboard walk, a sequence or a repeat: runs four characters long on average, or more."""
    return len(text) >= 4 and runs(text) * 4 <= len(text)


def repeats_itself(text: str) -> bool:
    """The same block typed again: `abcabcabc`, `dragondragon`, `pass1pass1`."""
    return any(
        len(text) % size == 0 and text == text[:size] * (len(text) // size)
        for size in range(1, len(text) // 2 + 1)
    )


class PatternValidator:
    """Refuse patterns a guesser tries before anything random.

    A keyboard walk or sequence (qwerty, asdfgh, 1qaz2wsx, abcd1234), a repeat (aaaaaaaa,
    abcabcabc), too few different characters, and a common word or name with digits or
    symbols around it (Summer2024!, P@ssw0rd1, dragon1999), judged on the word: a word
    from Django's 20,000 common passwords, taken apart from what is added around it.
    """

    def __init__(self):
        self.common = CommonPasswordValidator().passwords

    def validate(self, password, user=None):
        text = password.lower()
        if not text.strip():
            return  # NotBlankValidator says it, once
        if len(set(text)) < 4 or repeats_itself(text):
            raise ValidationError(
                "This password repeats itself or uses too few different characters: "
                "choose something less regular.",
                code="password_repetitive",
            )
        # Symbols and spaces between the keys do not hide a pattern: `q-w-e-r-t-y`, `2024 2024!`.
        alnum = re.sub(r"[^a-z0-9]", "", text)
        if alnum and (len(set(alnum)) < 4 or repeats_itself(alnum)):
            raise ValidationError(
                "This password repeats itself or uses too few different characters: "
                "choose something less regular.",
                code="password_repetitive",
            )
        core = text.strip(FILLER)
        filler = len(text) - len(core)
        if is_walk(alnum) or (filler <= MOST_FILLER and is_walk(core)):
            raise ValidationError(
                "This password is a keyboard pattern or a sequence (like qwerty, 1qaz2wsx or "
                "abcd1234): choose something less predictable.",
                code="password_pattern",
            )
        if core and filler <= MOST_FILLER and (len(core) < 4 or self.is_common_word(core)):
            raise ValidationError(
                "This password is a common word or name, or a very short one, with digits or "
                "symbols around it (like Summer2024!): add more words, or make it less "
                "predictable.",
                code="password_word_and_digits",
            )

    def is_common_word(self, core: str) -> bool:
        variants = {core, core.translate(LEET), core.replace("1", "l").translate(LEET)}
        return any(v in self.common or v.replace(" ", "") in self.common for v in variants if v)

    def get_help_text(self):
        return (
            "Your password can't be a keyboard pattern, a sequence or a repeat, nor a common "
            "word with digits or symbols around it."
        )
