"""Django settings: one file, every value from an environment variable (see conf.SETTINGS).

Importing it only reads: the data dir and its secret key are made at start-up
(conf.prepare_data_dir, called by the CLI, wsgi.py and the tests).
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import SimpleLazyObject

from shiporskip.conf import data_dir, secret_key, setting

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()

# Read when first used, not at import: a process started without the start-up step (a bare
# `python -m django`) still gets the data dir's key, made there once if it is missing.
SECRET_KEY = SimpleLazyObject(lambda: secret_key(DATA_DIR))
DEBUG = setting("SHIPORSKIP_DEBUG")
ALLOWED_HOSTS = setting("SHIPORSKIP_ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "ninja",
    "huey.contrib.djhuey",
    "shiporskip.catalog",
    "shiporskip.panel",
    "shiporskip.compare",
    "shiporskip.api",
    "shiporskip.community",
    "shiporskip.newsletter",
    "shiporskip.sharing",
    "shiporskip.feeds",
    "shiporskip.pagecache",
]

MIDDLEWARE = [
    # First, so that it counts and times every answer, static files and refusals included.
    "shiporskip.ops.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "shiporskip.security.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below whitenoise (which serves its own pre-compressed static files), above whatever
    # writes a body; compresses only public pages, which hold no secret (pages.PublicGZipMiddleware).
    "shiporskip.pages.PublicGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "shiporskip.middleware.ControlCharactersMiddleware",
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


def _database() -> dict[str, Any]:
    if url := setting("DATABASE_URL"):
        return dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
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
        # Kept open across requests, as PostgreSQL's are: opening the file and running the
        # pragmas cost more than a cached page's whole answer. `restore` refuses to swap the
        # file while a web process is running, so no process reads a replaced file.
        "CONN_MAX_AGE": 60,
        # Tests use a file too, not Django's shared in-memory database: threads and other
        # processes (the digest crash test) share it and meet the real site's locking.
        "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = setting("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Room for the rendered pages of a long tail of comparisons (Django's default is 300
    # entries); a page is some 10 to 40 KB, so this is at most some 80 MB per web process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 3000},
        }
    }
CACHE_SECONDS = setting("SHIPORSKIP_CACHE_SECONDS")
# Rendered public pages kept in the cache (pages.public): until what they show changes, and
# at most this long (dates such as "stale facts" move with the calendar); 0 turns it off.
PAGE_CACHE_SECONDS = setting("SHIPORSKIP_PAGE_CACHE_SECONDS")

HUEY = {
    "name": "shiporskip",
    "immediate": setting("SHIPORSKIP_QUEUE_IMMEDIATE"),
    # periodic: the consumer schedules the weekly digest (huey's default, stated because we rely on it).
    "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
}
if REDIS_URL:
    HUEY |= {"huey_class": "huey.RedisHuey", "url": REDIS_URL}
else:
    HUEY |= {"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "queue.sqlite3")}

SHIPORSKIP_MODEL = setting("SHIPORSKIP_MODEL")
SHIPORSKIP_LLM = {
    "timeout": setting("SHIPORSKIP_TIMEOUT"),
    "max_retries": setting("SHIPORSKIP_MAX_RETRIES"),
    "retry_base": setting("SHIPORSKIP_RETRY_BASE_SECONDS"),
    "repair_attempts": setting("SHIPORSKIP_REPAIR_ATTEMPTS"),
    "max_tokens": setting("SHIPORSKIP_MAX_TOKENS"),
    "temperature": setting("SHIPORSKIP_TEMPERATURE"),
}
SHIPORSKIP_CONCURRENCY = setting("SHIPORSKIP_CONCURRENCY")
# A running panel run writes its heartbeat this often; silent for six beats, it was cut off.
SHIPORSKIP_HEARTBEAT_SECONDS = setting("SHIPORSKIP_HEARTBEAT_SECONDS")
SHIPORSKIP_STRUCTURED_OUTPUT = setting("SHIPORSKIP_STRUCTURED_OUTPUT")
SHIPORSKIP_LLAMACPP_CTX = setting("SHIPORSKIP_LLAMACPP_CTX")
SHIPORSKIP_LLAMACPP_CHAT_FORMAT = setting("SHIPORSKIP_LLAMACPP_CHAT_FORMAT")
# A model never reviews its own maker's tools unless this says so (then reviews are marked).
SHIPORSKIP_ALLOW_SELF_REVIEW = setting("SHIPORSKIP_ALLOW_SELF_REVIEW")
WEB_WORKERS = setting("SHIPORSKIP_WEB_WORKERS")
# Python threads per web process; unset, granian's own (256 with 2 processes). Fewer threads
# made SQLite's votes faster (bench/votes.py: 0.70-0.86 of GET /me's rate with 1 or 2, against
# 0.56-0.73), but granian hands a request whose body is still arriving to a Python thread,
# which then waits for it: with 2, eight slow uploads left no thread for readers
# (tests/test_hardening.py). So the default stays granian's.
WEB_THREADS = setting("SHIPORSKIP_WEB_THREADS")
# One line per request in the web log costs a write each; off unless asked for.
ACCESS_LOG = setting("SHIPORSKIP_ACCESS_LOG")

# Prometheus (ops/metrics.py): the web processes of one machine add their counters up in one
# folder, so it must be set before prometheus_client is first imported, which is after this.
METRICS_DIR = Path(setting("PROMETHEUS_MULTIPROC_DIR", str(DATA_DIR / "metrics"))).expanduser().resolve()
METRICS_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
METRICS_ALLOW = setting("SHIPORSKIP_METRICS_ALLOW")
METRICS_TOKEN = setting("SHIPORSKIP_METRICS_TOKEN")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"  # made at start-up: whitenoise warns on a missing root
# `shiporskip up` (and the tests) run collectstatic: hashed names, gzip and brotli copies,
# served by whitenoise with `immutable` for years. A server started without it still serves
# the files under their plain names from the apps (pages.StaticFiles, and the finders here).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "shiporskip.pages.StaticFiles"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Rate limits per browser session and per client IP, counted in Redis with REDIS_URL, else in
# the database (ratelimit.py).
SHIPORSKIP_RATE_LIMITS = {
    "vote": {"session": setting("SHIPORSKIP_RATE_VOTE"), "ip": setting("SHIPORSKIP_RATE_VOTE_IP")},
    "bookmark": {
        "session": setting("SHIPORSKIP_RATE_BOOKMARK"),
        "ip": setting("SHIPORSKIP_RATE_BOOKMARK_IP"),
    },
    "signin": {"session": setting("SHIPORSKIP_RATE_SIGNIN"), "ip": setting("SHIPORSKIP_RATE_SIGNIN_IP")},
    "signup": {"session": setting("SHIPORSKIP_RATE_SIGNUP"), "ip": setting("SHIPORSKIP_RATE_SIGNUP_IP")},
    "subscribe": {
        "session": setting("SHIPORSKIP_RATE_SUBSCRIBE"),
        "ip": setting("SHIPORSKIP_RATE_SUBSCRIBE_IP"),
    },
    "admin": {"session": setting("SHIPORSKIP_RATE_ADMIN"), "ip": setting("SHIPORSKIP_RATE_ADMIN_IP")},
}
SHIPORSKIP_PROXY_COUNT = setting("SHIPORSKIP_PROXY_COUNT")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Blanks, the site's own name, and patterns (qwerty, Summer2024!): community/passwords.py.
    {"NAME": "shiporskip.community.passwords.NotBlankValidator"},
    {"NAME": "shiporskip.community.passwords.SiteNameValidator"},
    {"NAME": "shiporskip.community.passwords.PatternValidator"},
]
LOGIN_URL = "community:signin"
LOGIN_REDIRECT_URL = "community:bookmarks"
LOGOUT_REDIRECT_URL = "catalog:home"
CSRF_FAILURE_VIEW = "shiporskip.community.views.csrf_failure"

# Links in emails need the public address; requests are not there to tell it.
SITE_URL = setting("SHIPORSKIP_SITE_URL")
LOCAL_SITE = urlsplit(SITE_URL).hostname in {"localhost", "127.0.0.1", "::1"}

# Email with Django's own setting names. Mail goes to files only when asked (SHIPORSKIP_MAIL_DIR)
# or, with no SMTP host, for a site on this machine's loopback (the laptop install), so the
# publisher can read what would have been sent; files are 0600 (they hold sign-in links).
# A public site with no SMTP host sends nothing, and says so in the log (mail.NowhereBackend).
EMAIL_HOST = setting("EMAIL_HOST")
MAIL_DIR = setting("SHIPORSKIP_MAIL_DIR")
if MAIL_DIR or (not EMAIL_HOST and LOCAL_SITE):
    EMAIL_BACKEND = "shiporskip.mail.PrivateFileBackend"
    EMAIL_FILE_PATH = Path(MAIL_DIR).expanduser().resolve() if MAIL_DIR else DATA_DIR / "mail"
elif EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "shiporskip.mail.NowhereBackend"
EMAIL_PORT = setting("EMAIL_PORT")
EMAIL_HOST_USER = setting("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = setting("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = setting("EMAIL_USE_TLS")
EMAIL_USE_SSL = setting("EMAIL_USE_SSL")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are both on: choose one.")
EMAIL_TIMEOUT = setting("EMAIL_TIMEOUT")
DEFAULT_FROM_EMAIL = setting("DEFAULT_FROM_EMAIL")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The weekly digest: when it goes out, how fast, and how long a confirmation link lives.
DIGEST_WEEKDAY = setting("SHIPORSKIP_DIGEST_WEEKDAY")
DIGEST_HOUR = setting("SHIPORSKIP_DIGEST_HOUR")
DIGEST_TIMEZONE = setting("SHIPORSKIP_DIGEST_TIMEZONE")
DIGEST_RATE = setting("SHIPORSKIP_DIGEST_RATE")
# SMTP connections an edition goes out over at once, each with its own claims (delivery.py).
SMTP_CONNECTIONS = setting("SHIPORSKIP_SMTP_CONNECTIONS")
CONFIRM_DAYS = setting("SHIPORSKIP_CONFIRM_DAYS")

# Evidence: prices, terms and adoption figures older than this are flagged as stale.
SHIPORSKIP_FACTS_STALE_DAYS = setting("SHIPORSKIP_FACTS_STALE_DAYS")

# Django's database sessions, read with one plain query (shiporskip/sessions.py).
SESSION_ENGINE = "shiporskip.sessions"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# HTTPS. A public site (an https SITE_URL with debug off) gets secure cookies, HSTS and a
# redirect to https by default; each can still be set. The app never terminates TLS itself,
# so an https site sits behind a proxy, which says the scheme in X-Forwarded-Proto (the proxy
# must overwrite that header: a client-sent one would otherwise be believed).
HTTPS_SITE = SITE_URL.startswith("https://") and not DEBUG
SESSION_COOKIE_SECURE = setting("SHIPORSKIP_SECURE_COOKIES", HTTPS_SITE)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True  # site.js gets the token from /me, never from the cookie
SECURE_SSL_REDIRECT = setting("SHIPORSKIP_SSL_REDIRECT", HTTPS_SITE)
# Probes and the metrics scraper talk to a web process directly, over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$", r"^metrics$"]
SECURE_HSTS_SECONDS = setting("SHIPORSKIP_HSTS_SECONDS", 31_536_000 if HTTPS_SITE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = setting("SHIPORSKIP_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = setting("SHIPORSKIP_HSTS_PRELOAD")
SECURE_PROXY_SSL_HEADER = setting("SHIPORSKIP_PROXY_SSL_HEADER", "X-Forwarded-Proto" if HTTPS_SITE else "off")
CSRF_TRUSTED_ORIGINS = [SITE_URL]
SILENCED_SYSTEM_CHECKS = []
if not SECURE_HSTS_PRELOAD:
    # Preloading is an opt-in that is hard to undo (browsers ship the list for months), so
    # not asking for it is a choice, not an oversight: check --deploy need not warn (W021).
    SILENCED_SYSTEM_CHECKS.append("security.W021")
if not SITE_URL.startswith("https://") and (
    SESSION_COOKIE_SECURE or SECURE_SSL_REDIRECT or SECURE_HSTS_SECONDS
):
    raise ImproperlyConfigured(
        f"SHIPORSKIP_SITE_URL={SITE_URL} is http, but secure cookies, the https redirect or HSTS "
        "are on: readers could not sign in or reach the site. Set an https SHIPORSKIP_SITE_URL "
        "or turn those off."
    )

# Content-Security-Policy (django-csp): scripts, styles and everything else from this site
# only; no inline script, no eval (htmx is configured for it in base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)

# Request bodies: every form and API body here is small; refuse big ones before reading them.
MAX_BODY = setting("SHIPORSKIP_MAX_BODY")
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY
FILE_UPLOAD_HANDLERS: list[str] = []  # no endpoint takes files: a multipart file part is read and dropped

# Errors are logged with their traceback on standard error (the web server's and worker's
# log); with SHIPORSKIP_ADMINS set, each server error is also emailed to them.
ADMINS = [("", address) for address in setting("SHIPORSKIP_ADMINS")]
LOG_LEVEL = setting("SHIPORSKIP_LOG_LEVEL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
        "admins": {"class": "django.utils.log.AdminEmailHandler", "level": "ERROR"},
    },
    "loggers": {
        "django": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "django.request": {
            "handlers": ["stderr", *(["admins"] if ADMINS else [])],
            "level": "WARNING" if LOG_LEVEL != "DEBUG" else "DEBUG",
            "propagate": False,
        },
        "shiporskip": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
        "huey": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
