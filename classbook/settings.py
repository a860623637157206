"""Classbook settings, read from the environment (12-factor).

With nothing set, Classbook runs the demo on an embedded SQLite database in
``var/``. ``DATABASE_URL`` switches to PostgreSQL (``postgres://...``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from classbook.core.secret_key import SecretKeyError, ensure_key_file, read_key_file

# openpyxl switches to a C XML parser whenever one is installed (pyhanko brings it), and that parser
# neither refuses entity declarations nor goes through defusedxml. Uploaded workbooks must go through
# defusedxml (core/tables.py xml_is_defused, check core.E010), so openpyxl is told, before anything
# imports it, to keep the standard library's parser.
os.environ["OPENPYXL_LXML"] = "False"

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CLASSBOOK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The secret key signs sessions, password-reset links and CSRF tokens. It never comes from the source code:
# SECRET_KEY, or SECRET_KEY_FILE naming a file that holds it (scripts/demo and scripts/serve keep one in
# var/secret_key). Only for development (DEBUG=1) is a key generated and kept in var/secret_key. Otherwise
# Classbook refuses to start.
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    try:
        if os.environ.get("SECRET_KEY_FILE"):
            SECRET_KEY = read_key_file(Path(os.environ["SECRET_KEY_FILE"]))
        elif DEBUG:
            SECRET_KEY = ensure_key_file(VAR_DIR / "secret_key")
    except (OSError, SecretKeyError) as exc:
        raise ImproperlyConfigured(
            f"Classbook cannot start: {exc}. Set SECRET_KEY, or SECRET_KEY_FILE to a readable file that holds the key."
        ) from None
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "Classbook cannot start: SECRET_KEY is not set. Set SECRET_KEY to a long random string "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))") or SECRET_KEY_FILE to a file that holds '
        "one; scripts/serve and scripts/demo keep one in var/secret_key. For development only, DEBUG=1 generates "
        "a key in var/secret_key."
    )

# The server's host names (ALLOWED_HOSTS=journal.example.org); the default serves this machine only.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "classbook.core",
    "classbook.schools",
    "classbook.people",
    "classbook.access",
    "classbook.roster",
    "classbook.journal",
    "classbook.timetable",
    "classbook.planning",
    "classbook.notifications",
    "classbook.appeals",
    "classbook.messaging",
    "classbook.diary",
    "classbook.reports",
    "classbook.api",
    "classbook.demo",
    "classbook.audit",
    "classbook.webhooks",
    "classbook.printing",
    "classbook.signing",
    "classbook.archive",
    "classbook.records",
    "classbook.surveys",
    "classbook.documents",
    "classbook.portfolios",
    "classbook.materials",
    "classbook.backup",
    "classbook.oneroster",
    "classbook.help",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "classbook.core.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise (static files come compressed), above every middleware that writes the body.
    "classbook.core.compression.CompressPagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "classbook.people.sessions.SessionUserMiddleware",
    "classbook.people.middleware.UserLanguageMiddleware",
    "classbook.people.middleware.SessionGuardMiddleware",
    "classbook.core.headers.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "classbook.urls"
WSGI_APPLICATION = "classbook.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "classbook" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "classbook.core.context_processors.classbook",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
_default_sqlite = f"sqlite:///{VAR_DIR / 'classbook.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_sqlite),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_SERVER_SIDE_BINDING", True):
    # Server-side parameters: psycopg prepares a statement run 5 times on a connection, so PostgreSQL plans
    # each of the hot pages' queries once per connection instead of on every request (docs/performance.md).
    # Behind PgBouncer in transaction mode the named prepared statements need PgBouncer >= 1.21 with
    # max_prepared_statements > 0; with an older pooler set DB_PREPARE_THRESHOLD=off (parameters stay
    # server-side, nothing is prepared).
    _prepare = os.environ.get("DB_PREPARE_THRESHOLD", "5").strip().lower()
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=None if _prepare in {"off", "none", ""} else int(_prepare)
    )
# Behind PgBouncer in transaction mode (docs/deployment.md "PgBouncer"): Django's server-side cursors (used by
# .iterator()) are declared WITH HOLD outside a transaction and would be fetched on another server connection.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False)
# Read replicas (issue 15, core/replicas.py, docs/deployment.md "Read replicas"): comma-separated URLs of
# streaming replicas of the primary; read-only pages read them while they are up and not lagging.
DATABASE_REPLICAS: list[str] = []
for _number, _url in enumerate(u.strip() for u in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if u.strip()):
    _alias = f"replica_{_number}"
    DATABASES[_alias] = dj_database_url.parse(
        _url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=True
    )
    DATABASES[_alias]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASES[_alias]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    DATABASE_REPLICAS.append(_alias)
REPLICA_READ_NAMESPACES = ["diary", "reports", "timetable"]
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "5"))
REPLICA_CHECK_SECONDS = float(os.environ.get("REPLICA_CHECK_SECONDS", "5"))
REPLICA_PIN_SECONDS = int(os.environ.get("REPLICA_PIN_SECONDS", "30"))
DATABASE_ROUTERS = ["classbook.core.replicas.ReplicaRouter"] if DATABASE_REPLICAS else []
if os.environ.get("TEST_DB_NAME"):
    # Lets several checkouts run the suite against one PostgreSQL server at once.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DB_NAME"]}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a writer commits; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue instead of failing with "database is
    # locked" half-way through a transaction; the busy timeout is how long they queue.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;PRAGMA busy_timeout=20000;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.User"

# --- Caches ---------------------------------------------------------------
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            # Django's, with one client per connection pool, degrading to "no cache" while Redis is away
            "BACKEND": "classbook.core.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            # A dead or hung Redis costs milliseconds, not seconds: short timeouts, then the backend skips
            # Redis for a second before trying again (core/cache.py).
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("REDIS_CONNECT_TIMEOUT", "0.25")),
                "socket_timeout": float(os.environ.get("REDIS_TIMEOUT", "0.5")),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The diary's cached weeks (classbook/diary/cache.py): on with a shared cache (Redis), where every worker sees
# every invalidation; DIARY_CACHE=1 turns it on for a single-process server without Redis.
DIARY_CACHE = env_bool("DIARY_CACHE", bool(os.environ.get("REDIS_URL")))
DIARY_CACHE_SECONDS = int(os.environ.get("DIARY_CACHE_SECONDS", "600"))

# API rate limits per API token and per session user (classbook/api/ratelimit.py, docs/api.md):
# "<requests>/<period>" (period in seconds or s/min/h/day), "off" to switch one off. Counted in the cache.
API_RATE_LIMITS = {
    "token": os.environ.get("API_RATE_TOKEN", "600/min"),
    "session": os.environ.get("API_RATE_SESSION", "1200/min"),
}

# --- Auth and sessions ----------------------------------------------------
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "people:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "people:login"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
# The database engine with the session's user read in the same statement (people/sessions.py, issue 10).
SESSION_ENGINE = "classbook.people.sessions"
# With Redis, sessions are read from the cache and written through to the database (the list of a user's
# sessions and "end other sessions" read the table; ending a session deletes both: people/credentials.py).
# Without a shared cache they stay in the database only (a per-process cache would outlive an ended session).
if os.environ.get("REDIS_URL"):
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Login throttling: failures per username (and per address) in the window.
CLASSBOOK_LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
CLASSBOOK_LOGIN_WINDOW_MINUTES = int(os.environ.get("LOGIN_WINDOW_MINUTES", "15"))
CLASSBOOK_ACTIVATION_CODE_DAYS = int(os.environ.get("ACTIVATION_CODE_DAYS", "30"))

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "uk"
LANGUAGES = [("uk", _("Ukrainian")), ("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "classbook" / "locale"]
# Django's date formats except where a language writes a date otherwise (classbook/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["classbook.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Kyiv")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# The project's own static folder (app.css, htmx, the journal grid's script): "classbook" is not an
# installed app, so the app-directories finder does not see it.
STATICFILES_DIRS = [BASE_DIR / "classbook" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Backups (manage.py backup, docs/backup.md): where they are written, and optionally the folder of the
# PostgreSQL client programs (pg_dump, pg_restore) when the ones on PATH are older than the server.
BACKUP_ROOT = Path(os.environ.get("BACKUP_ROOT", VAR_DIR / "backups"))
BACKUP_PG_BINDIR = os.environ.get("BACKUP_PG_BINDIR", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
# WhiteNoise warns (an error under pytest's filterwarnings) when STATIC_ROOT does not exist yet.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "classbook@localhost")
# SMTP (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend); notifications retry when it is down.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
NOTIFICATIONS_MESSAGE_ID_DOMAIN = os.environ.get("NOTIFICATIONS_MESSAGE_ID_DOMAIN", "classbook.local")

# Background tasks (django-tasks). "database" (default): tasks are rows in the database and
# `manage.py db_worker` runs them; "immediate": run inside the request (tests, trying things out).
# See docs/notifications.md for the worker and the Redis/RQ path.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database")
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }.get(TASKS_BACKEND, TASKS_BACKEND),
    }
}

# Telegram bot (optional): the token from @BotFather, its username for the t.me link, and the secret
# Telegram sends in X-Telegram-Bot-Api-Secret-Token to the webhook (setWebhook secret_token).
TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_BOT_USERNAME = os.environ.get("TELEGRAM_BOT_USERNAME", "")
TELEGRAM_WEBHOOK_SECRET = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "")
TELEGRAM_API_URL = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org")
TELEGRAM_TIMEOUT = int(os.environ.get("TELEGRAM_TIMEOUT", "10"))
# SMS and Viber through TurboSMS (docs/notifications.md): each school keeps its own token, senders, prices and
# monthly limit on its SMS settings page; these are the server's.
TURBOSMS_API_URL = os.environ.get("TURBOSMS_API_URL", "https://api.turbosms.ua")
TURBOSMS_TIMEOUT = int(os.environ.get("TURBOSMS_TIMEOUT", "10"))
# Seconds a Viber message may wait for delivery before TurboSMS falls back to the SMS (60-86400).
TURBOSMS_VIBER_TTL = int(os.environ.get("TURBOSMS_VIBER_TTL", "3600"))
# A message (a digest above all) is cut to this many SMS segments, so one message never runs up a bill.
SMS_MAX_SEGMENTS = int(os.environ.get("SMS_MAX_SEGMENTS", "3"))

# Webhooks for integrators (docs/api.md "Webhooks"). SSRF safety: deliveries go to https URLs at public
# addresses only; WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=1 allows the school's own network (10.x, 192.168.x ...),
# WEBHOOKS_ALLOW_HTTP_LOOPBACK=1 allows http://127.0.0.1 (tests and development only).
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)
WEBHOOKS_ALLOW_HTTP_LOOPBACK = env_bool("WEBHOOKS_ALLOW_HTTP_LOOPBACK", False)
WEBHOOKS_TIMEOUT = int(os.environ.get("WEBHOOKS_TIMEOUT", "10"))  # seconds, connect and the whole answer
WEBHOOKS_MAX_ATTEMPTS = int(os.environ.get("WEBHOOKS_MAX_ATTEMPTS", "8"))  # then the delivery has failed
WEBHOOKS_MAX_RESPONSE_BYTES = 65536  # of the receiver's answer read (and thrown away)
WEBHOOKS_LOG_DAYS = int(os.environ.get("WEBHOOKS_LOG_DAYS", "30"))  # delivered and failed deliveries kept

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "classbook.core.observability.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "requests": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # One JSON line per request (core/observability.py); REQUEST_LOG_LEVEL=WARNING silences it.
    "loggers": {
        "classbook.requests": {
            "handlers": ["requests"],
            "level": os.environ.get("REQUEST_LOG_LEVEL", "INFO"),
            "propagate": False,
        }
    },
}

NINJA_PAGINATION_PER_PAGE = 100

# --- Request limits -------------------------------------------------------
# A malformed or oversized request answers 400/413/415 (the API's JSON error on /api/, a translated page
# elsewhere), never 500 (issue 9; docs/deployment.md "Request limits"). The largest legitimate request is
# a message with five 10 MB attachments (messaging/services.py: MAX_FILES x MAX_FILE_SIZE); the body cap
# leaves room for its text and the multipart framing. Each upload kind has its own, smaller cap, checked by
# its service: homework file 10 MB, message attachment 10 MB (5 per message), absence document 5 MB,
# class list 5 MB, plan 2 MB (tests/test_request_limits.py keeps this cap above all of them).
REQUEST_MAX_BODY_BYTES = int(os.environ.get("REQUEST_MAX_BODY_MB", "52")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # form fields and JSON bodies, files not counted (300 bulk marks ~60 KB)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # the largest form (a class's attendance) has under 100
DATA_UPLOAD_MAX_NUMBER_FILES = 10  # a message takes 5; more is refused by its service with a message, not here
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger uploads are spooled to a temporary file, not held in memory
# Without a session or an API token: the login, activation and password-reset forms and the Telegram webhook.
ANONYMOUS_MAX_BODY_BYTES = 256 * 1024
# Before the CSRF middleware, the first code that may read a body: the body caps, and the school of an API
# upload's URL, are checked before a byte of the body is parsed (core/middleware.py, access/middleware.py).
_CSRF_AT = MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware")
MIDDLEWARE[_CSRF_AT:_CSRF_AT] = [
    "classbook.core.middleware.RequestLimitsMiddleware",
    "classbook.access.middleware.SchoolBeforeBodyMiddleware",
]
CSRF_FAILURE_VIEW = "classbook.core.http_errors.csrf_failure"
# --- Content-Security-Policy and headers ----------------------------------
# One strict policy for every page (classbook/core/headers.py; how to add behaviour without inline
# script: docs/development.md). Same shape as Django 6's SECURE_CSP, so an upgrade swaps the middleware.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
# Stylesheets a page inlines with {% inline_style %} (no round trip before the first paint on a phone's network,
# issue 14); their SHA-256 hashes are added to style-src (classbook/core/inline_styles.py).
INLINE_STYLES = ["classbook/app.css", "classbook/diary.css"]
# Browser features no page uses: sent as "feature=()" in Permissions-Policy.
PERMISSIONS_POLICY_DENY = [
    "accelerometer",
    "camera",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "payment",
    "usb",
]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# django-ninja as an app: /api/v1/docs then loads Swagger UI from its static files, not from a CDN.
INSTALLED_APPS += ["ninja"]
# --- Outages (issue #9, docs/deployment.md "When Redis, the worker or PostgreSQL go down") ---------------
# A lost database connection answers a translated 503 with Retry-After (JSON on /api/ and for the grid),
# never a 500; outermost, so it also sees what the session and user middleware raised.
MIDDLEWARE.insert(0, "classbook.core.db_outage.DatabaseOutageMiddleware")
# --- Health and metrics (issue 15, docs/deployment.md "Health and metrics") ------------------------------
# Outermost of all: every answer (the outage's 503 too) is timed, counted and logged as one JSON line.
MIDDLEWARE.insert(0, "classbook.core.observability.RequestObservationMiddleware")
# /metrics exists only with a token (Authorization: Bearer <METRICS_TOKEN>); /readyz calls the task queue
# "lagging" when its oldest ready task waited longer than this (it still answers 200: see core/health.py).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# Password hashing behind a bounded gate (core/hashing.py, docs/deployment.md "Password hashing"): at most
# HASHING_SLOTS hashes at once on this machine (0: its cores); a login that waits longer than
# HASHING_WAIT_SECONDS for a slot is answered 429 with Retry-After. The gated hasher is Django's PBKDF2-SHA256
# (same algorithm name: every stored hash still verifies); the others read older hashes only.
PASSWORD_HASHERS = [
    "classbook.core.hashing.GatedPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
HASHING_SLOTS = int(os.environ.get("HASHING_SLOTS", "0"))
HASHING_WAIT_SECONDS = float(os.environ.get("HASHING_WAIT_SECONDS", "0.2"))
HASHING_RETRY_AFTER_SECONDS = int(os.environ.get("HASHING_RETRY_AFTER_SECONDS", "5"))
# Behind a proxy that stamps X-Request-Start, a login that waited longer than this in front of the workers is
# refused (429) before it hashes: the queue is shed instead of served to clients that may have given up.
HASHING_QUEUE_SECONDS = float(os.environ.get("HASHING_QUEUE_SECONDS", "10"))
HASHING_SLOT_DIR = os.environ.get("HASHING_SLOT_DIR", str(VAR_DIR / "hashing"))
MIDDLEWARE.append("classbook.core.middleware.HashingBusyMiddleware")
if DATABASE_REPLICAS:
    MIDDLEWARE.append("classbook.core.replicas.ReplicaMiddleware")
READYZ_TASK_LAG_SECONDS = int(os.environ.get("READYZ_TASK_LAG_SECONDS", "600"))
# --- Signing (issue 12, docs/signing.md) ----------------------------------------------------------------
# The key that encrypts the schools' PKCS#12 files and passwords at rest (HKDF of it; SECRET_KEY when unset).
# Rotation: move the old value into SIGNING_KEY_FALLBACKS (comma-separated), set the new one, then run
# `manage.py signing_rotate_key` to re-encrypt every stored certificate with the new key.
SIGNING_KEY = os.environ.get("SIGNING_KEY", "").strip()
SIGNING_KEY_FALLBACKS = env_list("SIGNING_KEY_FALLBACKS", "")
# A timestamp authority (RFC 3161) for PAdES-B-T signatures; a school's own URL wins. Empty: PAdES-B-B.
SIGNING_TSA_URL = os.environ.get("SIGNING_TSA_URL", "").strip()
# Which registered signer signs a school's PDFs (classbook.signing.services.SIGNERS; docs/signing.md).
SIGNING_SIGNER = os.environ.get("SIGNING_SIGNER", "pkcs12")
# PEM files of further trust roots for verification (a qualified provider's root), comma-separated.
SIGNING_TRUST_ROOTS = env_list("SIGNING_TRUST_ROOTS", "")
SIGNING_MAX_UPLOAD_BYTES = int(os.environ.get("SIGNING_MAX_UPLOAD_BYTES", str(256 * 1024)))
# PAdES B-LT: fetch the revocation information (CRL/OCSP) the signer's certificate chain names at signing time and
# embed it with the chain (0: never fetch, signatures stay B-B/B-T). Seconds per request; an address that does
# not answer is not asked again for SIGNING_REVOCATION_RETRY_SECONDS (the other documents stay B-B/B-T).
SIGNING_REVOCATION = env_bool("SIGNING_REVOCATION", True)
SIGNING_REVOCATION_TIMEOUT = int(os.environ.get("SIGNING_REVOCATION_TIMEOUT", "5"))
SIGNING_REVOCATION_RETRY_SECONDS = int(os.environ.get("SIGNING_REVOCATION_RETRY_SECONDS", "600"))
