"""Attack corpora for the security suite, and the tally each probe keeps.

Each XSS payload names itself with a number (`alert(7)`, `window.xss=7`), so a dialog or a
global seen in the browser says which payload ran. None holds a C0 control character: those
are refused on the way in (shiporskip/control_chars.py) and have their own tests.

The tally collects, per probe, how many inputs were tried, how many were refused safely (by
validation, an error status, or rendered inert) and how many were problems; tests/conftest.py
prints it at the end of the run, one line per probe, for the security note.
"""

from collections import defaultdict

MARK = "§"
# 7 * 7191: a template engine that evaluates `{{7*7191}}` writes this; nothing else on a page does.
EVALUATED = "50337"

TEXT = [
    "<script>alert(§)</script>",
    "<ScRiPt>alert(§)</sCrIpT>",
    "<img src=x onerror=alert(§)>",
    "<img src=x onerror=window.xss=§>",
    "<svg onload=alert(§)>",
    "<svg/onload=window.xss=§>",
    "<svg><script>alert(§)</script></svg>",
    '<iframe srcdoc="<script>parent.alert(§)</script>">',
    '"><script>alert(§)</script>',
    "'><img src=x onerror=alert(§)>",
    '" autofocus onfocus="alert(§)" x="',
    "' onmouseover='alert(§)' x='",
    "javascript:alert(§)",
    "JaVaScRiPt:alert(§)//",
    '<a href="javascript:alert(§)">click</a>',
    "</title><script>alert(§)</script>",
    "</textarea><script>alert(§)</script>",
    "</script><script>alert(§)</script>",
    "--><script>alert(§)</script><!--",
    "<details open ontoggle=alert(§)>",
    "<body onload=alert(§)>",
    "<input autofocus onfocus=alert(§)>",
    "<video><source onerror=alert(§)></video>",
    "<math><mtext><table><mglyph><style><img onerror=alert(§)>",
    '<object data="javascript:alert(§)">',
    '<embed src="javascript:alert(§)">',
    '<meta http-equiv=refresh content="0;url=javascript:alert(§)',
    '<base href="javascript:alert(§)//">',
    '<div hx-get=/me hx-trigger=load hx-on::load="alert(§)">',
    "<img src=x onerror=&#97;lert(§)>",
    "<scr<script>ipt>alert(§)</script>",
    "{{7*7191}} §",
    "{{constructor.constructor('alert(§)')()}}",
    "${7*7191} ${alert(§)}",
    "{% debug %}{{ request }} #{7*7191} §",
    "<%= 7*7191 %> §",
    "\uff1cscript\uff1ealert(§)\uff1c/script\uff1e",  # fullwidth angle brackets
    "\\u003cscript\\u003ealert(§)\\u003c/script\\u003e",  # a JSON escape, as text
    "&lt;script&gt;alert(§)&lt;/script&gt;",
    "%3Cscript%3Ealert(§)%3C/script%3E",
    "\u2028\u2029</script><script>alert(§)</script>",  # line separators end JS strings
    "\u202e<img src=x onerror=alert(§)>",  # right-to-left override
    "java\u200bscript:alert(§)",  # zero-width space
]

# For URL fields: the schemes a link must never carry, and http(s) URLs that try to break out.
URLS = [
    "javascript:alert(§)",
    "JAVASCRIPT:alert(§)",
    " javascript:alert(§)",
    "javascript://example.com/%0aalert(§)",
    "data:text/html,<script>alert(§)</script>",
    "vbscript:msgbox(§)",
    'https://example.com/"><script>alert(§)</script>',
    "https://example.com/?q=<img src=x onerror=alert(§)>",
    'https://example.com/#"onmouseover="alert(§)',
    "https://example.com/' onmouseover='alert(§)",
    "https://javascript:alert(§)@example.com/",
    "//example.com/§",
    "https://example.com/{{7*7191}}/§",
    "java\u200bscript:alert(§)",
    "https://example.com/\u2028</script><script>alert(§)</script>",
]


def numbered(corpus: list[str], start: int) -> list[str]:
    return [p.replace(MARK, str(start + i)) for i, p in enumerate(corpus)]


XSS = numbered(TEXT, 1)
XSS_URLS = numbered(URLS, 100)
LONGEST = max(len(p) for p in XSS + XSS_URLS)  # every payload fits the shortest field (60)


def dangerous(payload: str) -> bool:
    """Whether the payload, written out verbatim in HTML, could open a tag or end an attribute."""
    return any(c in payload for c in "<>\"'")


def unescaped(html: str, payloads: list[str]) -> list[str]:
    """The payloads that appear verbatim (any case) in a page's raw HTML: each one a problem."""
    lowered = html.lower()
    return [p for p in payloads if dangerous(p) and p.lower() in lowered]


# A probe run in the browser after each page load: what injected markup would leave behind.
DOM_PROBE = """() => {
  const bad = [];
  const scheme = /^\\s*(javascript|vbscript|data):/i;
  const links = {A: "href", AREA: "href", FORM: "action", BUTTON: "formaction", IFRAME: "src",
                 OBJECT: "data", EMBED: "src"};
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) {
      if (a.name.startsWith("on")) bad.push(`${el.tagName} ${a.name}=${a.value}`);
      if (a.name.startsWith("hx-on")) bad.push(`${el.tagName} ${a.name}`);
    }
    const attr = links[el.tagName], target = attr && el.getAttribute(attr);
    if (target && scheme.test(target)) bad.push(`${el.tagName} ${attr}=${target}`);
    if (["IFRAME", "OBJECT", "EMBED", "BASE"].includes(el.tagName)) bad.push(`<${el.tagName}>`);
    if (el.tagName === "META" && (el.getAttribute("http-equiv") || "").toLowerCase() === "refresh"
        && scheme.test((el.getAttribute("content") || "").split("url=")[1] || "")) bad.push("meta refresh");
  }
  for (const s of document.scripts) {
    // A data block (JSON, JSON-LD) is never run, whatever text it holds.
    const data = ["application/json", "application/ld+json"].includes(s.type);
    if (!s.src && /alert|xss/.test(s.textContent) && !data) bad.push("inline script");
  }
  if (window.xss !== undefined) bad.push(`window.xss=${window.xss}`);
  return bad;
}"""


class Tally:
    """Per probe: inputs tried, refused safely, and problems (each problem also fails its test)."""

    def __init__(self):
        self.counts = defaultdict(lambda: {"tried": 0, "refused": 0, "problems": 0})
        self.notes = defaultdict(int)  # e.g. page loads per probe

    def add(self, probe: str, *, tried: int = 0, refused: int = 0, problems: int = 0):
        row = self.counts[probe]
        row["tried"] += tried
        row["refused"] += refused
        row["problems"] += problems

    def note(self, probe: str, key: str, n: int = 1):
        self.notes[(probe, key)] += n

    def as_data(self) -> dict:
        """Plain data, for a parallel run's worker to hand to the controller (execnet)."""
        return {"counts": dict(self.counts), "notes": [[p, k, n] for (p, k), n in self.notes.items()]}

    def merge(self, data: dict) -> None:
        for probe, row in data.get("counts", {}).items():
            self.add(probe, **row)
        for probe, key, n in data.get("notes", []):
            self.note(probe, key, n)

    def lines(self) -> list[str]:
        out = []
        for probe, row in sorted(self.counts.items()):
            extra = "".join(f", {k} {n}" for (p, k), n in sorted(self.notes.items()) if p == probe)
            out.append(
                f"{probe}: tried {row['tried']}, refused safely {row['refused']}, "
                f"problems {row['problems']}{extra}"
            )
        return out


TALLY = Tally()
