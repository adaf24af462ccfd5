"""Whether a review's sections are written answers: each one answers its question, in its own words.

A section is sent back when it is a placeholder, has fewer than MIN_WORDS words, echoes a
section's question or title instead of answering it, or copies another section. The checks
are on words, not on quality: a weak model's plain but real sentences pass.
"""

import re
from difflib import SequenceMatcher

from shiporskip.panel.specs import PersonaSpec, SectionSpec

MIN_WORDS = 6
# An echo takes this share of its content words from a question or title...
ECHO_SHARE = 0.7
# ...and adds fewer new content words than this. ("The one decision that earns the ship is
# the licence" adds one word to its question's, and is a terse answer: two count.)
ECHO_NEW_WORDS = 2
# A section opening with a question's first words and holding this share of them in order
# asks that question again.
QUOTED_SHARE = 0.8
OPENING_WORDS = 3
# Two sections whose word sequences are this similar say the same thing.
COPY_SIMILARITY = 0.8

PLACEHOLDERS = {
    "x",
    "xx",
    "xxx",
    "n/a",
    "na",
    "none",
    "null",
    "nil",
    "tbd",
    "tba",
    "todo",
    "...",
    "…",
    "-",
    "--",
    "?",
    "text",
    "string",
    "answer",
    "your answer",
    "placeholder",
    "unknown",
    "same as above",
    "see above",
    "etc",
    "lorem ipsum",
    "not applicable",
    "no comment",
}

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
STOPWORDS = frozenset(
    {
        "a",
        "about",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "it's",
        "itself",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "e",
        "g",
        "eg",
        "ie",
        "etc",
    }
)


def problems(sections: dict[str, str], persona: PersonaSpec) -> dict[str, str]:
    """What is wrong with each section that is not a written answer, by section key."""
    specs = {s.key: s for s in persona.sections}
    found: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key, text in sections.items():
        if reason := problem(text, specs.get(key), list(specs.values()), seen):
            found[key] = reason
        seen[key] = text
    return found


def problem(
    text: str, own: SectionSpec | None, every: list[SectionSpec], earlier: dict[str, str]
) -> str | None:
    """The first thing that keeps a section from being an answer, or None."""
    if is_placeholder(text):
        return "is a placeholder"
    return echo(text, own, every) or too_short(text) or copy_of(text, earlier)


def is_placeholder(text: str) -> bool:
    """True for a blank, punctuation-only, filler or template-slot section."""
    plain = text.strip().lower()
    words = WORD.findall(plain)
    bare = plain.strip(" .!:;\"'`*")
    return (
        not words
        or bare in PLACEHOLDERS
        or bare.strip("<>[]{}()") in PLACEHOLDERS
        or re.fullmatch(r"<[^<>]*>|\[[^\[\]]*\]|\{[^{}]*\}", bare) is not None
        or "lorem ipsum" in plain
        or (len(words) >= MIN_WORDS and len(set(words)) <= 2)
    )


def too_short(text: str) -> str | None:
    count = len(WORD.findall(text))
    if count < MIN_WORDS:
        return f"has {count} word{'s' * (count != 1)}; write at least {MIN_WORDS}"
    return None


def echo(text: str, own: SectionSpec | None, every: list[SectionSpec]) -> str | None:
    """A section that restates a question or title (its own or another's) instead of answering.

    Either nearly all of its words are one question's, or it asks questions again and adds
    fewer than MIN_WORDS words of its own to them.
    """
    mine = set(content_words(text))
    if not mine:
        return "says nothing about the tool"
    specs = sorted(every, key=lambda s: s is not own)  # its own question first
    for spec in specs:
        new = mine - asked(spec)
        if len(new) < ECHO_NEW_WORDS and 1 - len(new) / len(mine) >= ECHO_SHARE:
            return f"repeats {whose(spec, own)} question instead of answering it"
    quoted = [spec for spec in specs if asks(text, spec.question)]
    if quoted and len(mine - set().union(*map(asked, quoted))) < MIN_WORDS:
        return f"repeats {whose(quoted[0], own)} question instead of answering it"
    return None


def asked(spec: SectionSpec) -> set[str]:
    return set(content_words(spec.question + " " + spec.title))


def whose(spec: SectionSpec, own: SectionSpec | None) -> str:
    return "its" if spec is own else f"the {spec.key} section's"


def asks(text: str, question: str) -> bool:
    """True when the text asks the question: its opening words, then most of the rest in order.

    An answer may reuse a question's words ("The main risk of building on it is ..."); only a
    question asked again keeps its opening ("What is the main risk ...").
    """
    asked_words, words = WORD.findall(question.lower()), WORD.findall(text.lower())
    opening = asked_words[:OPENING_WORDS]
    if not any(words[i : i + len(opening)] == opening for i in range(len(words))):
        return False
    blocks = SequenceMatcher(None, asked_words, words).get_matching_blocks()
    return sum(b.size for b in blocks) >= QUOTED_SHARE * len(asked_words)


def copy_of(text: str, earlier: dict[str, str]) -> str | None:
    """A section that says what an earlier one already said, near word for word."""
    mine = WORD.findall(text.lower())
    for key, other in earlier.items():
        if SequenceMatcher(None, mine, WORD.findall(other.lower())).ratio() >= COPY_SIMILARITY:
            return f"copies the {key} section"
    return None


def content_words(text: str) -> list[str]:
    """The words that carry meaning, crudely stemmed so that "rivals" matches "rival"."""
    return [stem(w) for w in WORD.findall(text.lower()) if w not in STOPWORDS]


def stem(word: str) -> str:
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
