"""Django settings: one file, every value from an environment variable (see conf.DOCUMENTED)."""

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from shiporskip.conf import (
    data_dir,
    env_bool,
    env_choice,
    env_float,
    env_header,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_url,
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "shiporskip.security.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
# A running panel run writes its heartbeat this often; silent for six beats, it was cut off.
SHIPORSKIP_HEARTBEAT_SECONDS = env_float("SHIPORSKIP_HEARTBEAT_SECONDS", 5.0, minimum=0.1)
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
    "admin": {"session": env_rate("SHIPORSKIP_RATE_ADMIN", "5/minute"),
              "ip": env_rate("SHIPORSKIP_RATE_ADMIN_IP", "20/hour")},
}
SHIPORSKIP_PROXY_COUNT = env_int("SHIPORSKIP_PROXY_COUNT", 0)

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
SITE_URL = env_url("SHIPORSKIP_SITE_URL", "http://127.0.0.1:8000")
LOCAL_SITE = urlsplit(SITE_URL).hostname in {"localhost", "127.0.0.1", "::1"}

# Email with Django's own setting names. Mail goes to files only when asked (SHIPORSKIP_MAIL_DIR)
# or, with no SMTP host, for a site on this machine's loopback (the laptop install), so the
# publisher can read what would have been sent; files are 0600 (they hold sign-in links).
# A public site with no SMTP host sends nothing, and says so in the log (mail.NowhereBackend).
EMAIL_HOST = env_str("EMAIL_HOST", "")
MAIL_DIR = env_str("SHIPORSKIP_MAIL_DIR", "")
if MAIL_DIR or (not EMAIL_HOST and LOCAL_SITE):
    EMAIL_BACKEND = "shiporskip.mail.PrivateFileBackend"
    EMAIL_FILE_PATH = Path(MAIL_DIR).expanduser().resolve() if MAIL_DIR else DATA_DIR / "mail"
elif EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "shiporskip.mail.NowhereBackend"
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

# HTTPS. A public site (an https SITE_URL with debug off) gets secure cookies, HSTS and a
# redirect to https by default; each can still be set. The app never terminates TLS itself,
# so an https site sits behind a proxy, which says the scheme in X-Forwarded-Proto (the proxy
# must overwrite that header: a client-sent one would otherwise be believed).
HTTPS_SITE = SITE_URL.startswith("https://") and not DEBUG
SESSION_COOKIE_SECURE = env_bool("SHIPORSKIP_SECURE_COOKIES", HTTPS_SITE)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True  # site.js gets the token from /me, never from the cookie
SECURE_SSL_REDIRECT = env_bool("SHIPORSKIP_SSL_REDIRECT", HTTPS_SITE)
SECURE_HSTS_SECONDS = env_int("SHIPORSKIP_HSTS_SECONDS", 31_536_000 if HTTPS_SITE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SHIPORSKIP_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SHIPORSKIP_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = env_header("SHIPORSKIP_PROXY_SSL_HEADER",
                                     "X-Forwarded-Proto" if HTTPS_SITE else "off")
CSRF_TRUSTED_ORIGINS = [SITE_URL]
SILENCED_SYSTEM_CHECKS = []
if not SECURE_HSTS_PRELOAD:
    # Preloading is an opt-in that is hard to undo (browsers ship the list for months), so
    # not asking for it is a choice, not an oversight: check --deploy need not warn (W021).
    SILENCED_SYSTEM_CHECKS.append("security.W021")
if not SITE_URL.startswith("https://") and (
        SESSION_COOKIE_SECURE or SECURE_SSL_REDIRECT or SECURE_HSTS_SECONDS):
    raise ImproperlyConfigured(
        f"SHIPORSKIP_SITE_URL={SITE_URL} is http, but secure cookies, the https redirect or HSTS "
        "are on: readers could not sign in or reach the site. Set an https SHIPORSKIP_SITE_URL "
        "or turn those off.")

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
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                      "microphone=(), payment=(), usb=(), interest-cohort=()")

# Request bodies: every form and API body here is small; refuse big ones before reading them.
MAX_BODY = env_int("SHIPORSKIP_MAX_BODY", 65_536, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY
FILE_UPLOAD_HANDLERS = []  # no endpoint takes files: a multipart file part is read and dropped

# Errors are logged with their traceback on standard error (the web server's and worker's
# log); with SHIPORSKIP_ADMINS set, each server error is also emailed to them.
ADMINS = [("", address) for address in env_list("SHIPORSKIP_ADMINS", "")]
LOG_LEVEL = env_choice("SHIPORSKIP_LOG_LEVEL", ["DEBUG", "INFO", "WARNING", "ERROR"]) or "INFO"
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
        "django.request": {"handlers": ["stderr", *(["admins"] if ADMINS else [])],
                           "level": "WARNING" if LOG_LEVEL != "DEBUG" else "DEBUG", "propagate": False},
        "shiporskip": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
        "huey": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
