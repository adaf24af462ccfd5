"""Every environment setting in one table (SETTINGS, at the end), with typed readers.

Each variable is written once: its reader (type and limits), its default and its meaning.
`settings.py`, the providers (panel/backends) and the README check (tests/test_docs.py) all
read this table; a malformed value stops start-up with a message naming the variable and what
it expects, rather than surfacing later as a confusing error deep in a request. Reading a
setting has no side effect: making the data dir and its secret key is `prepare_data_dir`,
called once at start-up (the CLI, wsgi.py, the tests).
"""

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default).strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true or false.")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    value = _env_number(name, default, minimum, int, "a whole number")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} must be at most {maximum}.")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    return _env_number(name, default, minimum, float, "a number")


def _env_number(name, default, minimum, parse, kind):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not {kind}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value:g} must be at least {minimum:g}.")
    return value


def env_choice(name: str, choices: list[str]) -> str:
    raw = os.environ.get(name, "").strip()
    if raw and raw not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} must be one of: {', '.join(choices)}.")
    return raw


RATE_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Limit:
    hits: int
    seconds: int

    def describe(self) -> str:
        unit = {v: k for k, v in RATE_UNITS.items()}[self.seconds]
        return f"{self.hits} per {unit}"


def env_rate(name: str, default: str):
    """Read a rate like `60/minute` (second, minute, hour or day); `off` or 0 means no limit."""
    raw = env_str(name, default).lower()
    if raw in {"off", "0", "none"}:
        return None
    count, _, unit = raw.partition("/")
    seconds = RATE_UNITS.get(unit.strip().rstrip("s") or "x")
    if not count.strip().isdigit() or not seconds or int(count) < 1:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate: write it like 60/minute (second, minute, hour, day) or off."
        )
    return Limit(hits=int(count), seconds=seconds)


def env_zone(name: str, default: str) -> str:
    """Read an IANA time zone name, checked against the zone database."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    raw = env_str(name, default)
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a time zone name, e.g. Europe/Paris.") from None
    return raw


def env_networks(name: str, default: str) -> list:
    """Read comma-separated addresses or networks (10.0.0.0/8, ::1) as ipaddress networks."""
    import ipaddress

    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an address or network, e.g. 10.0.0.0/8 or 127.0.0.1."
            ) from None
    return networks


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_path(name: str, default: str) -> Path:
    return Path(env_str(name, default)).expanduser().resolve()


def data_dir() -> Path:
    """Where the data dir is; `prepare_data_dir` makes it (start-up, never an import)."""
    return setting("SHIPORSKIP_DATA_DIR")


def prepare_data_dir(directory: Path) -> list[Path]:
    """The start-up step: the data dir, its static root and secret key, all private.

    Returns what `keep_private` had to fix. Called by the CLI before Django is set up, by
    wsgi.py and by the tests: importing the settings only reads.
    """
    os.umask(0o077)  # before anything is made: private from the start
    # The data dir holds sessions, reset links and the secret key: only its owner may read it.
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    (directory / "static").mkdir(exist_ok=True)  # STATIC_ROOT: whitenoise warns on a missing root
    secret_key(directory)
    return keep_private(directory)


# What the project keeps in its data dir that no other local user may read: sessions and
# password-reset links live in the databases, sign-in links in mail files. Only these are
# touched, so a data dir pointed at a shared folder keeps the modes of everything else.
PRIVATE = (
    "secret_key",
    "*.sqlite3",
    "*.sqlite3-wal",
    "*.sqlite3-shm",
    "*.sqlite3-journal",
    "mail",
    "static",
    "metrics",
)


def keep_private(directory: Path) -> list[Path]:
    """Make `directory` 0700 and what the project keeps in it 0600 (folders 0700); return what changed.

    Called when a process starts, so a data dir made by an older version, copied with the
    wrong modes or restored from a backup is fixed before it serves anyone.
    """
    os.umask(0o077)  # what this process creates from now on is private too
    # A sticky folder (/tmp) is shared by design: never change its own mode.
    paths = [] if directory.stat().st_mode & stat.S_ISVTX else [directory]
    for pattern in PRIVATE:
        for path in directory.glob(pattern):
            paths += [path, *path.rglob("*")] if path.is_dir() else [path]
    changed = []
    for path in paths:
        if path.is_symlink():
            continue
        mode = 0o700 if path.is_dir() else 0o600
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
            changed.append(path)
    return changed


def env_url(name: str, default: str) -> str:
    """Read an http(s) origin like https://verdicts.example.com (no path): links are built on it."""
    from urllib.parse import urlsplit

    raw = env_str(name, default).rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path or parts.query:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a site address: write it like https://verdicts.example.com."
        )
    return raw


def env_header(name: str, default: str) -> tuple[str, str] | None:
    """Read a request header name such as X-Forwarded-Proto as Django's (META key, "https")."""
    raw = env_str(name, default)
    if raw.lower() in {"off", "none", "0"}:
        return None
    if not all(part.isalnum() for part in raw.split("-")):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a header name, e.g. X-Forwarded-Proto, or off.")
    return "HTTP_" + raw.upper().replace("-", "_"), "https"


def secret_key(directory: Path) -> str:
    """Return the configured key, or the one kept in the data dir, made there once if missing."""
    if key := setting("SHIPORSKIP_SECRET_KEY"):
        return key
    path = directory / "secret_key"
    if not path.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        from django.utils.crypto import get_random_string

        # Written 0600 from the start (a key readable for a moment is a key others may have)
        # and linked into place whole: two processes starting at once agree on one key.
        draft = directory / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(get_random_string(64))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def choice(*options: str) -> Callable[[str, str], str]:
    """A reader that takes one of `options` (the message lists them)."""
    return lambda name, default: env_choice(name, list(options)) or default


@dataclass(frozen=True)
class Setting:
    """One environment variable: how it is read (type and limits), its default and meaning."""

    name: str
    read: Callable
    default: object
    doc: str
    shown: str = ""  # the README's default, where it is not the default itself (derived, unset)

    def value(self, default=None):
        """The variable's value now; `default` stands in for a default derived from another setting."""
        return self.read(self.name, self.default if default is None else default)

    @property
    def shown_default(self) -> str:
        if self.shown:
            return self.shown
        if isinstance(self.default, bool):
            return str(self.default).lower()
        if isinstance(self.default, float):
            return f"{self.default:g}"
        return str(self.default) if self.default != "" else "(unset)"


def _table(*rows: Setting) -> dict[str, Setting]:
    return {row.name: row for row in rows}


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HTTPS_DEFAULT = "(on for an https site)"

# Every setting the project reads, with its default and meaning. The README's table is checked
# against it (tests/test_docs.py), and `setting()` refuses a name that is not in it.
SETTINGS = _table(
    Setting(
        "SHIPORSKIP_DATA_DIR", env_path, "./data", "Where the SQLite database, queue and secret key live."
    ),
    Setting(
        "DATABASE_URL",
        env_str,
        "",
        "e.g. postgres://user@127.0.0.1:5432/db.",
        shown="(SQLite in the data dir)",
    ),
    Setting(
        "REDIS_URL",
        env_str,
        "",
        "Use Redis for the cache and the task queue, e.g. redis://127.0.0.1:6379/0; "
        "one Redis database per site (two sites on one would share a queue).",
    ),
    Setting(
        "SHIPORSKIP_MODEL",
        env_str,
        "offline",
        "Reviewer backend as provider/model; `offline` needs no model.",
    ),
    Setting(
        "SHIPORSKIP_SECRET_KEY", env_str, "", "Django's SECRET_KEY.", shown="(generated into the data dir)"
    ),
    Setting("SHIPORSKIP_DEBUG", env_bool, False, "Django debug pages; never on a public site."),
    Setting(
        "SHIPORSKIP_ALLOWED_HOSTS",
        env_list,
        "localhost,127.0.0.1,[::1]",
        "Comma-separated host names served.",
    ),
    Setting(
        "SHIPORSKIP_CACHE_SECONDS", env_int, 60, "How long public pages may be cached by the app and proxies."
    ),
    Setting("SHIPORSKIP_QUEUE_IMMEDIATE", env_bool, False, "Run queued tasks inline (tests, debugging)."),
    Setting(
        "SHIPORSKIP_WEB_WORKERS",
        partial(env_int, minimum=1),
        2,
        "Web server processes started by `shiporskip up`.",
    ),
    Setting(
        "SHIPORSKIP_WEB_THREADS",
        partial(env_int, minimum=1),
        None,
        "Python threads per web server process (granian's blocking threads).",
        shown="granian's own (256 with 2 processes)",
    ),
    Setting(
        "SHIPORSKIP_PAGE_CACHE_SECONDS",
        env_int,
        3600,
        "Longest a rendered public page is kept; 0 turns the page cache off.",
    ),
    Setting(
        "SHIPORSKIP_ACCESS_LOG", env_bool, False, "One line per request in the web log (a write per request)."
    ),
    # The reviewer backends' calls (panel/backends/chat.py and the providers).
    Setting(
        "SHIPORSKIP_TIMEOUT",
        partial(env_float, minimum=0.1),
        120.0,
        "Seconds one LLM call may take before it is retried.",
    ),
    Setting(
        "SHIPORSKIP_MAX_RETRIES",
        env_int,
        4,
        "Retries of an LLM call on 429, 5xx, timeouts and lost connections.",
    ),
    Setting(
        "SHIPORSKIP_RETRY_BASE_SECONDS",
        env_float,
        1.0,
        "First backoff delay after an answer that is not a chat completion; it doubles per retry, "
        "with jitter (HTTP failures back off as the `openai` SDK does: 0.5 s doubling to 8 s, or the "
        "server's `Retry-After`).",
    ),
    Setting("SHIPORSKIP_REPAIR_ATTEMPTS", env_int, 2, "Times an invalid reply is sent back with its error."),
    Setting("SHIPORSKIP_MAX_TOKENS", partial(env_int, minimum=16), 1200, "Token limit of one review reply."),
    Setting("SHIPORSKIP_TEMPERATURE", env_float, 0.2, "Sampling temperature of reviewer calls."),
    Setting(
        "SHIPORSKIP_CONCURRENCY",
        partial(env_int, minimum=1),
        4,
        "Persona calls in flight at once per panel run.",
    ),
    Setting(
        "SHIPORSKIP_HEARTBEAT_SECONDS",
        partial(env_float, minimum=0.1),
        5.0,
        "Seconds between a panel run's heartbeats (6 missed: redone).",
    ),
    Setting(
        "SHIPORSKIP_STRUCTURED_OUTPUT",
        choice("json_schema", "json_object", "instructions"),
        "",
        "json_schema, json_object or instructions.",
        shown="(per provider)",
    ),
    Setting(
        "SHIPORSKIP_PRICES",
        env_str,
        "",
        "YAML file of USD per million tokens per model.",
        shown="(bundled table)",
    ),
    Setting(
        "SHIPORSKIP_LLAMACPP_CTX",
        partial(env_int, minimum=512),
        4096,
        "Context size for in-process GGUF models.",
    ),
    Setting(
        "SHIPORSKIP_LLAMACPP_CHAT_FORMAT",
        env_str,
        "",
        "llama-cpp-python chat format, e.g. gemma.",
        shown="(from the GGUF)",
    ),
    Setting(
        "SHIPORSKIP_ALLOW_SELF_REVIEW",
        env_bool,
        False,
        "Let a model review its maker's tools (reviews marked).",
    ),
    # Providers (panel/backends/openai_compat.py), read when a reviewer is made.
    Setting("OPENAI_API_KEY", env_str, "", "Key for openai/ models."),
    Setting(
        "OPENAI_BASE_URL",
        env_str,
        "",
        "Any OpenAI-compatible server for openai/ models.",
        shown="(OpenAI's API)",
    ),
    Setting("OLLAMA_BASE_URL", env_str, "http://127.0.0.1:11434/v1", "Ollama's OpenAI-compatible endpoint."),
    Setting("VLLM_BASE_URL", env_str, "http://127.0.0.1:8000/v1", "vLLM's OpenAI-compatible endpoint."),
    Setting("VLLM_API_KEY", env_str, "", "Key, if your vLLM server was started with one."),
    Setting(
        "LLAMACPP_SERVER_URL",
        env_str,
        "http://127.0.0.1:8080/v1",
        "llama.cpp server's OpenAI-compatible endpoint.",
    ),
    Setting("LLAMACPP_SERVER_API_KEY", env_str, "", "Key, if your llama.cpp server was started with one."),
    # Rate limits per browser session and per client IP (community/ratelimit.py).
    Setting("SHIPORSKIP_RATE_VOTE", env_rate, "60/minute", "Votes per browser session; `off` for no limit."),
    Setting("SHIPORSKIP_RATE_VOTE_IP", env_rate, "600/minute", "Votes per client IP address."),
    Setting("SHIPORSKIP_RATE_BOOKMARK", env_rate, "60/minute", "Bookmark changes per browser session."),
    Setting("SHIPORSKIP_RATE_BOOKMARK_IP", env_rate, "600/minute", "Bookmark changes per client IP address."),
    Setting(
        "SHIPORSKIP_RATE_SIGNIN",
        env_rate,
        "10/minute",
        "Sign-in attempts and password-reset requests per session.",
    ),
    Setting(
        "SHIPORSKIP_RATE_SIGNIN_IP",
        env_rate,
        "60/minute",
        "Sign-in attempts and password-reset requests per IP.",
    ),
    Setting("SHIPORSKIP_RATE_SIGNUP", env_rate, "5/hour", "Sign-ups per browser session."),
    Setting("SHIPORSKIP_RATE_SIGNUP_IP", env_rate, "20/hour", "Sign-ups per client IP address."),
    Setting("SHIPORSKIP_RATE_SUBSCRIBE", env_rate, "5/hour", "Newsletter sign-ups per browser session."),
    Setting(
        "SHIPORSKIP_RATE_SUBSCRIBE_IP", env_rate, "30/hour", "Newsletter sign-ups per client IP address."
    ),
    Setting("SHIPORSKIP_RATE_ADMIN", env_rate, "5/minute", "Admin sign-in attempts per browser session."),
    Setting("SHIPORSKIP_RATE_ADMIN_IP", env_rate, "20/hour", "Admin sign-in attempts per client IP address."),
    Setting(
        "SHIPORSKIP_PROXY_COUNT", env_int, 0, "Proxies in front whose X-Forwarded-For gives the client IP."
    ),
    # The public address and https (defaults derived from the address are passed by settings.py).
    Setting(
        "SHIPORSKIP_SITE_URL",
        env_url,
        "http://127.0.0.1:8000",
        "The site's public address: email links, canonical links, sitemap, cards.",
    ),
    Setting(
        "SHIPORSKIP_SECURE_COOKIES",
        env_bool,
        False,
        "Send session and CSRF cookies over https only.",
        shown=HTTPS_DEFAULT,
    ),
    Setting(
        "SHIPORSKIP_SSL_REDIRECT", env_bool, False, "Redirect http requests to https.", shown=HTTPS_DEFAULT
    ),
    Setting(
        "SHIPORSKIP_HSTS_SECONDS",
        env_int,
        0,
        "HSTS max-age in seconds; 0 is off.",
        shown="(31536000 for an https site)",
    ),
    Setting("SHIPORSKIP_HSTS_INCLUDE_SUBDOMAINS", env_bool, True, "HSTS covers the site's subdomains too."),
    Setting(
        "SHIPORSKIP_HSTS_PRELOAD", env_bool, False, "Ask browsers' HSTS preload lists to include the site."
    ),
    Setting(
        "SHIPORSKIP_PROXY_SSL_HEADER",
        env_header,
        "off",
        "Header by which the proxy says a request came over https; off.",
        shown="(X-Forwarded-Proto for an https site)",
    ),
    Setting(
        "SHIPORSKIP_MAX_BODY",
        partial(env_int, minimum=1024),
        65_536,
        "Largest request body in bytes; larger ones get 413.",
    ),
    Setting(
        "SHIPORSKIP_MAIL_DIR", env_str, "", "Write mail to files here instead of sending it (mode 0600)."
    ),
    Setting(
        "SHIPORSKIP_ADMINS",
        env_list,
        "",
        "Comma-separated addresses emailed a traceback on each server error.",
    ),
    Setting(
        "SHIPORSKIP_LOG_LEVEL",
        choice("DEBUG", "INFO", "WARNING", "ERROR"),
        "INFO",
        "Level of the site's log on standard error (DEBUG, INFO, WARNING).",
    ),
    # Email, with Django's own names.
    Setting(
        "EMAIL_HOST",
        env_str,
        "",
        "SMTP server; unset writes mail under <data dir>/mail.",
        shown="(unset: mail goes to files)",
    ),
    Setting("EMAIL_PORT", partial(env_int, minimum=1), 25, "SMTP port."),
    Setting("EMAIL_HOST_USER", env_str, "", "SMTP user name."),
    Setting("EMAIL_HOST_PASSWORD", env_str, "", "SMTP password."),
    Setting("EMAIL_USE_TLS", env_bool, False, "STARTTLS to the SMTP server (port 587 usually)."),
    Setting("EMAIL_USE_SSL", env_bool, False, "Implicit TLS to the SMTP server (port 465 usually)."),
    Setting("EMAIL_TIMEOUT", partial(env_int, minimum=1), 30, "Seconds an SMTP connection may take."),
    Setting("DEFAULT_FROM_EMAIL", env_str, "Ship or Skip <noreply@localhost>", "Sender of every email."),
    # The weekly digest (newsletter/).
    Setting(
        "SHIPORSKIP_DIGEST_WEEKDAY",
        choice(*WEEKDAYS),
        "mon",
        "Day the weekly edition goes out: mon, tue, ... sun.",
    ),
    Setting(
        "SHIPORSKIP_DIGEST_HOUR",
        partial(env_int, maximum=23),
        9,
        "Hour (0-23) the weekly edition goes out, in the digest's time zone.",
    ),
    Setting(
        "SHIPORSKIP_DIGEST_TIMEZONE",
        env_zone,
        "UTC",
        "Time zone of the digest's day and hour, e.g. Europe/Paris.",
    ),
    Setting(
        "SHIPORSKIP_DIGEST_RATE", env_float, 0.0, "Most edition emails sent per second; 0 means no limit."
    ),
    Setting(
        "SHIPORSKIP_SMTP_CONNECTIONS",
        partial(env_int, minimum=1, maximum=64),
        4,
        "SMTP connections an edition is sent over at once (1-64).",
    ),
    Setting(
        "SHIPORSKIP_CONFIRM_DAYS",
        partial(env_int, minimum=1),
        7,
        "Days a subscription's confirmation link stays valid.",
    ),
    Setting(
        "SHIPORSKIP_FACTS_STALE_DAYS",
        partial(env_int, minimum=1),
        365,
        "Days after which prices and adoption figures count as stale.",
    ),
    # Operations (ops/metrics.py).
    Setting(
        "PROMETHEUS_MULTIPROC_DIR",
        env_str,
        "",
        "Folder where each web process keeps its Prometheus counters.",
        shown="(<data dir>/metrics)",
    ),
    Setting(
        "SHIPORSKIP_METRICS_ALLOW",
        env_networks,
        "127.0.0.1,::1",
        "Addresses or networks that may read /metrics.",
    ),
    Setting("SHIPORSKIP_METRICS_TOKEN", env_str, "", "Bearer token that lets any address read /metrics."),
)
DOCUMENTED = {row.name: (row.shown_default, row.doc) for row in SETTINGS.values()}


def setting(name: str, default=None):
    """The value of a variable in SETTINGS, read from the environment now.

    `default` replaces the table's default where it derives from another setting (the https
    defaults from the site's address); a name missing from the table is a mistake here, not
    a setting nobody documented.
    """
    if name not in SETTINGS:
        raise KeyError(f"{name} is not in conf.SETTINGS: add it there with its default and meaning")
    return SETTINGS[name].value(default)
