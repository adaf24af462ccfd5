"""Django settings: one file, every value from an environment variable (see conf.DOCUMENTED)."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from shiporskip.conf import (
    data_dir,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_zone,
    secret_key,
)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env_bool("SHIPORSKIP_DEBUG", False)
ALLOWED_HOSTS = env_list("SHIPORSKIP_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "huey.contrib.djhuey",
    "shiporskip.catalog",
    "shiporskip.panel",
    "shiporskip.compare",
    "shiporskip.api",
    "shiporskip.community",
    "shiporskip.newsletter",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shiporskip.urls"
WSGI_APPLICATION = "shiporskip.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shiporskip.pages.site",
            ],
        },
    },
]


def _database() -> dict:
    if url := env_str("DATABASE_URL", ""):
        return dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    # SQLite tuned for a web process and a worker writing at once: WAL lets readers go on
    # during a write, IMMEDIATE takes the write lock up front (no upgrade deadlocks), and the
    # timeout waits for the lock instead of failing with "database is locked".
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "shiporskip.sqlite3",
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # Tests use a file too, not Django's shared in-memory database: threads and other
        # processes (the digest crash test) share it and meet the real site's locking.
        "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CACHE_SECONDS = env_int("SHIPORSKIP_CACHE_SECONDS", 60)

HUEY = {
    "name": "shiporskip",
    "immediate": env_bool("SHIPORSKIP_QUEUE_IMMEDIATE", False),
    # periodic: the consumer schedules the weekly digest (huey's default, stated because we rely on it).
    "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
}
if REDIS_URL:
    HUEY |= {"huey_class": "huey.RedisHuey", "url": REDIS_URL}
else:
    HUEY |= {"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "queue.sqlite3")}

SHIPORSKIP_MODEL = env_str("SHIPORSKIP_MODEL", "offline")
SHIPORSKIP_LLM = {
    "timeout": env_float("SHIPORSKIP_TIMEOUT", 120.0, minimum=0.1),
    "max_retries": env_int("SHIPORSKIP_MAX_RETRIES", 4),
    "retry_base": env_float("SHIPORSKIP_RETRY_BASE_SECONDS", 1.0),
    "repair_attempts": env_int("SHIPORSKIP_REPAIR_ATTEMPTS", 2),
    "max_tokens": env_int("SHIPORSKIP_MAX_TOKENS", 1200, minimum=16),
    "temperature": env_float("SHIPORSKIP_TEMPERATURE", 0.2),
}
SHIPORSKIP_CONCURRENCY = env_int("SHIPORSKIP_CONCURRENCY", 4, minimum=1)
SHIPORSKIP_STRUCTURED_OUTPUT = env_choice(
    "SHIPORSKIP_STRUCTURED_OUTPUT", ["json_schema", "json_object", "instructions"])
SHIPORSKIP_LLAMACPP_CTX = env_int("SHIPORSKIP_LLAMACPP_CTX", 4096, minimum=512)
SHIPORSKIP_LLAMACPP_CHAT_FORMAT = env_str("SHIPORSKIP_LLAMACPP_CHAT_FORMAT", "")
# A model never reviews its own maker's tools unless this says so (then reviews are marked).
SHIPORSKIP_ALLOW_SELF_REVIEW = env_bool("SHIPORSKIP_ALLOW_SELF_REVIEW", False)
WEB_WORKERS = env_int("SHIPORSKIP_WEB_WORKERS", 2, minimum=1)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on a missing root
# Serve static files straight from the apps: no collectstatic step for a self-hoster.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Rate limits per browser session and per client IP, counted in the database (ratelimit.py).
SHIPORSKIP_RATE_LIMITS = {
    "vote": {"session": env_rate("SHIPORSKIP_RATE_VOTE", "60/minute"),
             "ip": env_rate("SHIPORSKIP_RATE_VOTE_IP", "600/minute")},
    "bookmark": {"session": env_rate("SHIPORSKIP_RATE_BOOKMARK", "60/minute"),
                 "ip": env_rate("SHIPORSKIP_RATE_BOOKMARK_IP", "600/minute")},
    "signin": {"session": env_rate("SHIPORSKIP_RATE_SIGNIN", "10/minute"),
               "ip": env_rate("SHIPORSKIP_RATE_SIGNIN_IP", "60/minute")},
    "signup": {"session": env_rate("SHIPORSKIP_RATE_SIGNUP", "5/hour"),
               "ip": env_rate("SHIPORSKIP_RATE_SIGNUP_IP", "20/hour")},
    "subscribe": {"session": env_rate("SHIPORSKIP_RATE_SUBSCRIBE", "5/hour"),
                  "ip": env_rate("SHIPORSKIP_RATE_SUBSCRIBE_IP", "30/hour")},
}
SHIPORSKIP_PROXY_COUNT = env_int("SHIPORSKIP_PROXY_COUNT", 0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "community:signin"
LOGIN_REDIRECT_URL = "community:bookmarks"
LOGOUT_REDIRECT_URL = "catalog:home"
CSRF_FAILURE_VIEW = "shiporskip.community.views.csrf_failure"

# Links in emails need the public address; requests are not there to tell it.
SITE_URL = env_str("SHIPORSKIP_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Email with Django's own setting names. With no SMTP host, mail is written to files so that
# a laptop install works and the publisher can read what would have been sent.
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are both on: choose one.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Ship or Skip <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The weekly digest: when it goes out, how fast, and how long a confirmation link lives.
DIGEST_WEEKDAY = env_choice("SHIPORSKIP_DIGEST_WEEKDAY",
                            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]) or "mon"
DIGEST_HOUR = env_int("SHIPORSKIP_DIGEST_HOUR", 9, maximum=23)
DIGEST_TIMEZONE = env_zone("SHIPORSKIP_DIGEST_TIMEZONE", "UTC")
DIGEST_RATE = env_float("SHIPORSKIP_DIGEST_RATE", 0.0)
CONFIRM_DAYS = env_int("SHIPORSKIP_CONFIRM_DAYS", 7, minimum=1)

# Evidence: prices, terms and adoption figures older than this are flagged as stale.
SHIPORSKIP_FACTS_STALE_DAYS = env_int("SHIPORSKIP_FACTS_STALE_DAYS", 365, minimum=1)

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
