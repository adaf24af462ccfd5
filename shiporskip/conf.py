"""Typed readers for environment settings: every setting has a laptop-friendly default.

A malformed value stops start-up with a message naming the variable and what it expects,
rather than surfacing later as a confusing error deep in a request.
"""

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Every setting the project reads, with its default and meaning: the README's table and
# tests/test_settings.py are both checked against this dict.
DOCUMENTED = {
    "SHIPORSKIP_DATA_DIR": ("./data", "Where the SQLite database, queue and secret key live."),
    "DATABASE_URL": ("(SQLite in the data dir)", "e.g. postgres://user@127.0.0.1:5432/db."),
    "REDIS_URL": ("(unset)", "Use Redis for the cache and the task queue, e.g. redis://127.0.0.1:6379/0."),
    "SHIPORSKIP_MODEL": ("offline", "Reviewer backend as provider/model; `offline` needs no model."),
    "SHIPORSKIP_SECRET_KEY": ("(generated into the data dir)", "Django's SECRET_KEY."),
    "SHIPORSKIP_DEBUG": ("false", "Django debug pages; never on a public site."),
    "SHIPORSKIP_ALLOWED_HOSTS": ("localhost,127.0.0.1,[::1]", "Comma-separated host names served."),
    "SHIPORSKIP_CACHE_SECONDS": ("60", "How long public pages may be cached by the app and proxies."),
    "SHIPORSKIP_QUEUE_IMMEDIATE": ("false", "Run queued tasks inline (tests, debugging)."),
    "SHIPORSKIP_WEB_WORKERS": ("2", "Web server processes started by `shiporskip up`."),
    "SHIPORSKIP_TIMEOUT": ("120", "Seconds one LLM call may take before it is retried."),
    "SHIPORSKIP_MAX_RETRIES": ("4", "Retries of an LLM call on 429, 5xx, timeouts and lost connections."),
    "SHIPORSKIP_RETRY_BASE_SECONDS": ("1", "First backoff delay; it doubles per retry, with jitter."),
    "SHIPORSKIP_REPAIR_ATTEMPTS": ("2", "Times an invalid reply is sent back with its error."),
    "SHIPORSKIP_MAX_TOKENS": ("1200", "Token limit of one review reply."),
    "SHIPORSKIP_TEMPERATURE": ("0.2", "Sampling temperature of reviewer calls."),
    "SHIPORSKIP_CONCURRENCY": ("4", "Persona calls in flight at once per panel run."),
    "SHIPORSKIP_HEARTBEAT_SECONDS": ("5", "Seconds between a panel run's heartbeats (6 missed: redone)."),
    "SHIPORSKIP_STRUCTURED_OUTPUT": ("(per provider)", "json_schema, json_object or instructions."),
    "SHIPORSKIP_PRICES": ("(bundled table)", "YAML file of USD per million tokens per model."),
    "SHIPORSKIP_LLAMACPP_CTX": ("4096", "Context size for in-process GGUF models."),
    "SHIPORSKIP_LLAMACPP_CHAT_FORMAT": ("(from the GGUF)", "llama-cpp-python chat format, e.g. gemma."),
    "SHIPORSKIP_ALLOW_SELF_REVIEW": ("false", "Let a model review its maker's tools (reviews marked)."),
    "OPENAI_API_KEY": ("(unset)", "Key for openai/ models."),
    "OPENAI_BASE_URL": ("(OpenAI's API)", "Any OpenAI-compatible server for openai/ models."),
    "OLLAMA_BASE_URL": ("http://127.0.0.1:11434/v1", "Ollama's OpenAI-compatible endpoint."),
    "VLLM_BASE_URL": ("http://127.0.0.1:8000/v1", "vLLM's OpenAI-compatible endpoint."),
    "VLLM_API_KEY": ("(unset)", "Key, if your vLLM server was started with one."),
    "LLAMACPP_SERVER_URL": ("http://127.0.0.1:8080/v1", "llama.cpp server's OpenAI-compatible endpoint."),
    "LLAMACPP_SERVER_API_KEY": ("(unset)", "Key, if your llama.cpp server was started with one."),
    "SHIPORSKIP_RATE_VOTE": ("60/minute", "Votes per browser session; `off` for no limit."),
    "SHIPORSKIP_RATE_VOTE_IP": ("600/minute", "Votes per client IP address."),
    "SHIPORSKIP_RATE_BOOKMARK": ("60/minute", "Bookmark changes per browser session."),
    "SHIPORSKIP_RATE_BOOKMARK_IP": ("600/minute", "Bookmark changes per client IP address."),
    "SHIPORSKIP_RATE_SIGNIN": ("10/minute", "Sign-in attempts and password-reset requests per session."),
    "SHIPORSKIP_RATE_SIGNIN_IP": ("60/minute", "Sign-in attempts and password-reset requests per IP."),
    "SHIPORSKIP_RATE_SIGNUP": ("5/hour", "Sign-ups per browser session."),
    "SHIPORSKIP_RATE_SIGNUP_IP": ("20/hour", "Sign-ups per client IP address."),
    "SHIPORSKIP_RATE_SUBSCRIBE": ("5/hour", "Newsletter sign-ups per browser session."),
    "SHIPORSKIP_RATE_SUBSCRIBE_IP": ("30/hour", "Newsletter sign-ups per client IP address."),
    "SHIPORSKIP_RATE_ADMIN": ("5/minute", "Admin sign-in attempts per browser session."),
    "SHIPORSKIP_RATE_ADMIN_IP": ("20/hour", "Admin sign-in attempts per client IP address."),
    "SHIPORSKIP_PROXY_COUNT": ("0", "Proxies in front whose X-Forwarded-For gives the client IP."),
    "SHIPORSKIP_SITE_URL": ("http://127.0.0.1:8000",
                            "The site's public address: email links, canonical links, sitemap, cards."),
    "SHIPORSKIP_SECURE_COOKIES": ("(on for an https site)", "Send session and CSRF cookies over https only."),
    "SHIPORSKIP_SSL_REDIRECT": ("(on for an https site)", "Redirect http requests to https."),
    "SHIPORSKIP_HSTS_SECONDS": ("(31536000 for an https site)", "HSTS max-age in seconds; 0 is off."),
    "SHIPORSKIP_HSTS_INCLUDE_SUBDOMAINS": ("true", "HSTS covers the site's subdomains too."),
    "SHIPORSKIP_HSTS_PRELOAD": ("false", "Ask browsers' HSTS preload lists to include the site."),
    "SHIPORSKIP_PROXY_SSL_HEADER": ("(X-Forwarded-Proto for an https site)",
                                    "Header by which the proxy says a request came over https; off."),
    "SHIPORSKIP_MAX_BODY": ("65536", "Largest request body in bytes; larger ones get 413."),
    "SHIPORSKIP_MAIL_DIR": ("(unset)", "Write mail to files here instead of sending it (mode 0600)."),
    "SHIPORSKIP_ADMINS": ("(unset)", "Comma-separated addresses emailed a traceback on each server error."),
    "SHIPORSKIP_LOG_LEVEL": ("INFO", "Level of the site's log on standard error (DEBUG, INFO, WARNING)."),
    "EMAIL_HOST": ("(unset: mail goes to files)", "SMTP server; unset writes mail under <data dir>/mail."),
    "EMAIL_PORT": ("25", "SMTP port."),
    "EMAIL_HOST_USER": ("(unset)", "SMTP user name."),
    "EMAIL_HOST_PASSWORD": ("(unset)", "SMTP password."),
    "EMAIL_USE_TLS": ("false", "STARTTLS to the SMTP server (port 587 usually)."),
    "EMAIL_USE_SSL": ("false", "Implicit TLS to the SMTP server (port 465 usually)."),
    "EMAIL_TIMEOUT": ("30", "Seconds an SMTP connection may take."),
    "DEFAULT_FROM_EMAIL": ("Ship or Skip <noreply@localhost>", "Sender of every email."),
    "SHIPORSKIP_DIGEST_WEEKDAY": ("mon", "Day the weekly edition goes out: mon, tue, ... sun."),
    "SHIPORSKIP_DIGEST_HOUR": ("9", "Hour (0-23) the weekly edition goes out, in the digest's time zone."),
    "SHIPORSKIP_DIGEST_TIMEZONE": ("UTC", "Time zone of the digest's day and hour, e.g. Europe/Paris."),
    "SHIPORSKIP_DIGEST_RATE": ("0", "Most edition emails sent per second; 0 means no limit."),
    "SHIPORSKIP_CONFIRM_DAYS": ("7", "Days a subscription's confirmation link stays valid."),
    "SHIPORSKIP_FACTS_STALE_DAYS": ("365", "Days after which prices and adoption figures count as stale."),
    "SHIPORSKIP_DIGEST_CRASH_AFTER": ("(unset)", "Test hook: kill the sender at a point, e.g. data:17."),
}


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
            f"{name}={raw!r} is not a rate: write it like 60/minute (second, minute, hour, day) or off.")
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


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def data_dir() -> Path:
    path = Path(env_str("SHIPORSKIP_DATA_DIR", "./data")).expanduser().resolve()
    # The data dir holds sessions, reset links and the secret key: only its owner may read it.
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


# What the project keeps in its data dir that no other local user may read: sessions and
# password-reset links live in the databases, sign-in links in mail files. Only these are
# touched, so a data dir pointed at a shared folder keeps the modes of everything else.
PRIVATE = ("secret_key", "*.sqlite3", "*.sqlite3-wal", "*.sqlite3-shm", "*.sqlite3-journal", "mail",
           "static")


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
            f"{name}={raw!r} is not a site address: write it like https://verdicts.example.com.")
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
    """Return the configured key, or one generated once and kept in the data dir."""
    if key := os.environ.get("SHIPORSKIP_SECRET_KEY", "").strip():
        return key
    path = directory / "secret_key"
    if not path.exists():
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
