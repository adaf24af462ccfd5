"""Typed readers for environment settings: every setting has a laptop-friendly default.

A malformed value stops start-up with a message naming the variable and what it expects,
rather than surfacing later as a confusing error deep in a request.
"""

import os
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


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def data_dir() -> Path:
    path = Path(env_str("SHIPORSKIP_DATA_DIR", "./data")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(directory: Path) -> str:
    """Return the configured key, or one generated once and kept in the data dir."""
    if key := os.environ.get("SHIPORSKIP_SECRET_KEY", "").strip():
        return key
    path = directory / "secret_key"
    if not path.exists():
        from django.utils.crypto import get_random_string

        path.write_text(get_random_string(64))
        path.chmod(0o600)
    return path.read_text().strip()
