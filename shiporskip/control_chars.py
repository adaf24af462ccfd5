"""Control characters: refused by name wherever text comes in.

C0 (U+0000-U+001F) and DEL (U+007F) have no place in a name, a slug, a URL or a form field: a
CR or LF in a tool name ends up in an email's Subject header, and PostgreSQL cannot store a NUL
at all (the query fails). Each way in says which fields may keep a tab or a line break (long
free text written in files); everything else is refused before anything is stored, with a
message that names the character, e.g. "name contains a control character (U+000D CR): remove it".

The ways in: catalog and persona files (`catalog/loading.py`, `panel/personas.py`, the `add`
flags), the admin (`Tool.clean`, `Category.clean`, `Persona.clean`), and every URL and public
form (`shiporskip/middleware.py`).
"""

import re
from collections.abc import Callable, Iterator

NAMES = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "BEL",
    "BS",
    "HT",
    "LF",
    "VT",
    "FF",
    "CR",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "FS",
    "GS",
    "RS",
    "US",
]
CONTROL = re.compile("[\x00-\x1f\x7f]")
# What long free text (a description, a persona's style brief) may keep: a YAML block
# scalar gives line breaks, and a tab is harmless in a paragraph. CR is still refused: YAML
# already turns line ends into LF, so a CR only arrives written as an escape on purpose.
MULTILINE = "\t\n"
# Leading and trailing whitespace that the validating models strip (pydantic's
# str_strip_whitespace) never reaches the database, so it is not refused: a YAML folded
# scalar (`>`) ends in a line break the writer never sees.
EDGE = " \t\n\r\x0b\x0c"


def label(char: str) -> str:
    """U+000D CR, U+007F DEL: the code point and its usual abbreviation."""
    code = ord(char)
    return f"U+{code:04X} {'DEL' if code == 0x7F else NAMES[code]}"


def first_control(text: str, allow: str = "") -> str | None:
    """The first control character in `text` that `allow` does not list, or None."""
    for match in CONTROL.finditer(text):
        if match.group() not in allow:
            return match.group()
    return None


def problem(text: str, allow: str = "") -> str | None:
    """'contains a control character (U+000D CR): remove it', or None if `text` is clean."""
    char = first_control(text, allow)
    return None if char is None else f"contains a control character ({label(char)}): remove it"


def shown(text: str) -> str:
    """`text` safe to echo in a message or a log line: each control character as an escape."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def path_text(path: tuple) -> str:
    """('facts', 'runtimes', 1) -> 'facts.runtimes[1]'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def find(
    data: object, *, allow: Callable[[tuple], str] = lambda path: "", strip: bool = True, path: tuple = ()
) -> str | None:
    """Walk a parsed file or form (dicts, lists, strings) and describe the first control
    character: "facts.price.note contains a control character (U+000D CR): remove it".

    `allow(path)` names what that field may keep; keys never keep anything. With `strip`, the
    value's outer whitespace is left out, as the models that store it strip it.
    """
    for where, text, allowed in _strings(data, allow, strip, path):
        if message := problem(text, allowed):
            return f"{path_text(where) or 'the value'} {message}"
    return None


def _strings(data, allow, strip, path) -> Iterator[tuple[tuple, str, str]]:
    if isinstance(data, str):
        yield path, data.strip(EDGE) if strip else data, allow(path)
    elif isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and first_control(key):  # the key itself: shown escaped
                yield (*path, shown(key)), key, ""
            else:
                yield from _strings(value, allow, strip, (*path, str(key)))  # a key, not an index
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from _strings(value, allow, strip, (*path, i))


def model_errors(instance, fields: dict[str, str]) -> dict[str, str]:
    """The admin's way in: {field: message} for a model instance's text and JSON fields.

    `fields` maps each field to what it may keep. A browser sends a textarea's line breaks
    as CRLF, so a field that keeps line breaks keeps CR here too.
    """
    errors = {}
    for field, allowed in fields.items():
        value = getattr(instance, field)
        if isinstance(value, str):
            message = problem(value, allowed)
            message = message and f"This field {message}."
        else:  # a JSON field: every string and key inside it, named by its path
            message = find(value, strip=False, path=(field,))
        if message:
            errors[field] = message
    return errors
