"""Paperboy settings: everything comes from the environment, with defaults that
run the whole service on one machine (SQLite, a file-system Celery broker, and
email written to a local outbox). See README.md for the variables.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_prefixed,
    env_seconds_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime files of a one-machine install: SQLite database, broker queue, outbox.
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-only-never-in-production-7Hq2"

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
_site_host = urlsplit(SITE_URL).hostname
if _site_host and _site_host not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_site_host)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "anymail",
    "axes",
    "subscriptions",
    "digest",
    "groups",
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
    "config.csp.CSPMiddleware",  # django-csp's, its usual policy built once
    # Last, as django-axes asks: answers a locked-out login with its message.
    "axes.middleware.AxesMiddleware",
]

# A Content Security Policy on every page (django-csp): our own scripts, styles and
# images only, no inline script, no framing by other sites. The outbox's email
# frame sets a stricter one of its own.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [SELF],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            # Cached: the email loader inlines each email template's CSS once per process.
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    [
                        "config.email_templates.Loader",
                        "django.template.loaders.app_directories.Loader",
                    ],
                )
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user@host:5432/name) or a local SQLite file.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'paperboy.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # The web process and the worker write at the same time: WAL lets readers
    # go on, IMMEDIATE takes the write lock up front so transactions queue
    # instead of failing with "database is locked" halfway through.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    # A file, not memory, so that a Celery worker started by a test sees the
    # same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-paperboy.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",  # Django's, its clients reused
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "paperboy",
        }
    }
else:
    # Shared by the web and worker processes of a one-machine install.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# Staff logins (the admin) through django-axes: after ADMIN_LOGIN_FAILURE_LIMIT failed
# attempts from one address, or for one username, every login from that address or for
# that username is refused, the right password too, until ADMIN_LOGIN_LOCKOUT_MINUTES
# have passed without an attempt. Failures are kept in the database (the admin lists
# them under "Access attempts"; `manage.py axes_reset_username NAME` lifts a lock early).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
ADMIN_LOGIN_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
ADMIN_LOGIN_LOCKOUT_MINUTES = env_int("ADMIN_LOGIN_LOCKOUT_MINUTES", 15)
AXES_FAILURE_LIMIT = ADMIN_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=ADMIN_LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # each on its own, not the pair
AXES_RESET_ON_SUCCESS = True
# The visitor's address as the rate limits see it (TRUSTED_PROXY_COUNT), not the proxy's.
AXES_CLIENT_IP_CALLABLE = "subscriptions.visitors.client_ip"
AXES_COOLOFF_MESSAGE = (
    "Too many failed logins from this address or for this username: logins are refused "
    f"until {ADMIN_LOGIN_LOCKOUT_MINUTES} minutes have passed without an attempt."
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Email. Any django-anymail ESP by environment alone, for example
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend and
# ANYMAIL_POSTMARK_SERVER_TOKEN=...; by default messages are written as .eml
# files to OUTBOX_DIR and listed at /outbox/ while DEBUG is on.
OUTBOX_DIR = Path(env_str("OUTBOX_DIR", str(DATA_DIR / "outbox")))
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "config.outbox.EmailBackend")
ANYMAIL = env_prefixed("ANYMAIL_")
# Soft bounces in a row (per digest) after which an address is suppressed.
SOFT_BOUNCE_LIMIT = env_int("SOFT_BOUNCE_LIMIT", 3)
# The provider's delivery webhooks (/anymail/<provider>/tracking/) must send this
# "user:password" as HTTP basic auth; for most providers it is their only protection
# against forged bounces and complaints, which would suppress real subscribers. Without
# it they answer 404 and `check --deploy` fails (paperboy.E003), unless
# DELIVERY_WEBHOOKS=false says to run without delivery reports (digest/feedback.py).
DELIVERY_WEBHOOKS = env_bool("DELIVERY_WEBHOOKS", True)
_webhook_secret = env_str("WEBHOOK_SECRET")
if _webhook_secret:
    if ":" not in _webhook_secret:
        raise ImproperlyConfigured('WEBHOOK_SECRET must be "user:password".')
    ANYMAIL["WEBHOOK_SECRET"] = _webhook_secret
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
# STARTTLS on a submission port (587), or TLS from the first byte (465): one of them.
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS (STARTTLS, port 587) or EMAIL_USE_SSL (465).")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# Account mail (confirmations) and digests come from different addresses, as
# mailbox providers ask of bulk senders.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Paperboy <hello@paperboy.localhost>")
DIGEST_FROM_EMAIL = env_str("DIGEST_FROM_EMAIL", "Paperboy digest <digest@paperboy.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery. A broker URL (Redis or RabbitMQ) when given, else kombu's file-system
# transport, which needs no server (its URL names a host only so that kombu does not
# warn "No hostname was supplied" at every connection).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://localhost//"
CELERY_BROKER_DIR = DATA_DIR / "broker"
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis hands an unacknowledged message to another worker after this many
    # seconds: it must exceed the longest task, or a slow task runs twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 6}
# One queue name per deployment, so two installs can share a broker.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "paperboy")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# At-least-once: a message is acknowledged after its task ran, and given back
# when the worker process dies, so every task must be idempotent (they are).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Exactly one beat runs the schedule: a second one waits until the first's lease
# (in the database) runs out. Beat wakes at least this often, to renew it.
CELERY_BEAT_SCHEDULER = "config.beat:SingleBeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 20
BEAT_LEASE_SECONDS = env_int("BEAT_LEASE_SECONDS", 90)

# Paperboy.
FETCH_INTERVAL_MINUTES = env_int("FETCH_INTERVAL_MINUTES", 180)
DISPATCH_INTERVAL_SECONDS = env_int("DISPATCH_INTERVAL_SECONDS", 900)
# How late an expected feed change may come before its source is stale, on top of the
# fetch interval (a change is seen only at the next fetch): digest/sources/health.py.
SOURCE_STALE_GRACE_MINUTES = env_int("SOURCE_STALE_GRACE_MINUTES", 360)
FETCH_TIMEOUT_SECONDS = env_int("FETCH_TIMEOUT_SECONDS", 20)
FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", 20 * 1024 * 1024)
# Feeds are fetched from public addresses only (no loopback, private, link-local or
# cloud metadata address, at the first URL or any redirect); these host names are
# exempt, as written: tests serving feeds from 127.0.0.1, an intranet mirror.
FETCH_ALLOWED_HOSTS = env_list("FETCH_ALLOWED_HOSTS")
# A source's fetch task retries transient failures (timeouts, 5xx) after
# FETCH_RETRY_BASE_SECONDS, doubling each time, FETCH_MAX_RETRIES times.
FETCH_MAX_RETRIES = env_int("FETCH_MAX_RETRIES", 4)
FETCH_RETRY_BASE_SECONDS = env_int("FETCH_RETRY_BASE_SECONDS", 60)
# How long one fetch may hold its source before another run may take it over.
FETCH_LEASE_SECONDS = env_int("FETCH_LEASE_SECONDS", 900)
# Backfill (fetch_papers --backfill-days) reads history from arXiv's query API
# or Hugging Face day by day, one request at a time, waiting between requests
# as long as arXiv's terms of use ask (3 s).
ARXIV_API_URL = env_str("ARXIV_API_URL", "https://export.arxiv.org/api/query")
BACKFILL_DELAY_SECONDS = env_float("BACKFILL_DELAY_SECONDS", 3.0)
# A Hugging Face fetch also reads the daily lists of the days before today again, for
# their upvotes (which grow for days), one request a day, BACKFILL_DELAY_SECONDS apart:
# a week's, so a weekly digest's `trending` ranks by this week's counts. 0: only today.
HF_REFRESH_DAYS = env_int("HF_REFRESH_DAYS", 7)
ARXIV_API_PAGE_SIZE = env_int("ARXIV_API_PAGE_SIZE", 200)
# A like: line's paper not stored yet is asked of arXiv's API while the reader saves:
# a person waits, so a shorter limit than a feed's.
SEED_LOOKUP_TIMEOUT_SECONDS = env_int("SEED_LOOKUP_TIMEOUT_SECONDS", 10)
# Requests to arXiv's API for seeds, for the whole site, per minute (arXiv: one per 3 s).
SEED_LOOKUPS_PER_MINUTE = env_int("SEED_LOOKUPS_PER_MINUTE", 20)
DIGEST_MAX_PAPERS = env_int("DIGEST_MAX_PAPERS", 25)
DIGEST_SEND_EMPTY = env_bool("DIGEST_SEND_EMPTY", False)
# A new subscriber's first digest covers papers first seen this many days back.
DIGEST_FIRST_LOOKBACK_DAYS = env_int("DIGEST_FIRST_LOOKBACK_DAYS", 7)
# Subscribers per send task. A chunk's overlapped hand-overs drain at its end (the
# threads wait for the next chunk's claim and matching): over SMTP with a 30 ms round
# trip, 200 a chunk sent 153 digests/s where 50 sent 114 (bench/send.py); the claim's
# lease (DELIVERY_LEASE_SECONDS) still covers a chunk at 1 digest/s.
DIGEST_CHUNK_SIZE = env_int("DIGEST_CHUNK_SIZE", 200)
# How many days of papers a fetch makes the stored analyses of (digest/analyses.py): a
# weekly window's and a day more; a window's older papers are analysed when it is built.
PAPER_ANALYSIS_DAYS = env_int("PAPER_ANALYSIS_DAYS", 8)
# ... and from how many days a paper's stored analysis is deleted (~6.4 KB each): a
# window that reaches further back (a reader back from a long pause) analyses its papers.
PAPER_ANALYSIS_KEEP_DAYS = env_int("PAPER_ANALYSIS_KEEP_DAYS", 30)
# A worker keeps at most this many papers' analyses of a window (~100 KB each: a weekly
# window across arXiv, 15,000 papers, holds 1.5 GB); a paper beyond them is analysed again
# when a chunk's new interests need it, which costs far more time than it saves memory
# (bench/send.py, 6,000 papers: 1,000 MB and 24 digests/s kept all, 448 MB and 6/s at
# 1,024). 0: keep all, for speed; a bound for a small machine.
MATCH_KEEP_ANALYSES = env_int("MATCH_KEEP_ANALYSES", 0)
# At most this many hand-overs of one worker process overlap, each on a connection of
# its own, when the provider answers slower than digests are built (digest/handover.py).
DIGEST_SEND_CONCURRENCY = env_int("DIGEST_SEND_CONCURRENCY", 32)
# On PostgreSQL, a batch's commit runs on a thread and connection of its own while the
# next digests are built (digest/handover.py); off, on the sending thread.
DIGEST_RECORD_ASIDE = env_bool("DIGEST_RECORD_ASIDE", True)
# A worker keeps its connections to the provider open between chunks, this long idle at
# most (digest/kept_lines.py); 0 closes them as each chunk ends.
EMAIL_KEEP_OPEN_SECONDS = env_float("EMAIL_KEEP_OPEN_SECONDS", 30.0)
# A worker holds a digest it claimed, or is handing over, this long; after it the
# reconciler takes it back. Longer than one message's send (EMAIL_TIMEOUT per step).
DELIVERY_LEASE_SECONDS = env_int("DELIVERY_LEASE_SECONDS", 300)
# Waits before each retry of a temporary failure (greylisting, a provider down):
# nine attempts over about 16 hours, then the digest fails and its papers go to the next.
DIGEST_RETRY_DELAYS_SECONDS = env_seconds_list(
    "DIGEST_RETRY_DELAYS_SECONDS", "1m,5m,15m,30m,1h,2h,4h,8h"
)
# How often beat runs the reconciler (leases run out, retries come due), and how many
# deliveries one run takes back.
RECONCILE_INTERVAL_SECONDS = env_int("RECONCILE_INTERVAL_SECONDS", 60)
RECONCILE_BATCH_SIZE = env_int("RECONCILE_BATCH_SIZE", 500)
CONFIRM_LINK_MAX_AGE_DAYS = env_int("CONFIRM_LINK_MAX_AGE_DAYS", 7)
UNSUBSCRIBE_LINK_MAX_AGE_DAYS = env_int("UNSUBSCRIBE_LINK_MAX_AGE_DAYS", 90)
# The manage link of each digest works until the next few have replaced it.
MANAGE_LINK_MAX_AGE_DAYS = env_int("MANAGE_LINK_MAX_AGE_DAYS", 60)
WEB_COPY_MAX_AGE_DAYS = env_int("WEB_COPY_MAX_AGE_DAYS", 365)
# The web copy of a digest lists up to this many matching papers (the email fewer).
WEB_COPY_MAX_PAPERS = env_int("WEB_COPY_MAX_PAPERS", 50)
# The readers' models (digest/personal.py, digest/learning/): up to this many "suggested
# for you" papers no keyword caught in a digest, each at least this similar (cosine of
# the representation's vectors, 0 to 1) to a paper the reader liked or follows.
LEARNING_SUGGESTIONS = env_int("LEARNING_SUGGESTIONS", 3)
LEARNING_MIN_SIMILARITY = env_float("LEARNING_MIN_SIMILARITY", 0.03)
# The representation's kind (digest.learning.representation.KINDS; an operator's
# embedding model registers its own), fitted nightly at this UTC hour on the newest
# LEARNING_CORPUS_PAPERS stored papers; then the models of readers whose feedback
# changed (all of them when the representation did) are trained again.
LEARNING_REPRESENTATION = env_str("LEARNING_REPRESENTATION", "hashed-tfidf-1")
LEARNING_REFRESH_HOUR = env_int("LEARNING_REFRESH_HOUR", 2)
LEARNING_CORPUS_PAPERS = env_int("LEARNING_CORPUS_PAPERS", 50_000)
# Readers per training task of the nightly run (their papers vectorized once a task).
LEARNING_CHUNK_SIZE = env_int("LEARNING_CHUNK_SIZE", 1000)
LINK_REQUEST_RATE_LIMIT_PER_HOUR = env_int("LINK_REQUEST_RATE_LIMIT_PER_HOUR", 10)
PREVIEW_RATE_LIMIT_PER_HOUR = env_int("PREVIEW_RATE_LIMIT_PER_HOUR", 600)
# CPU seconds the live previews of one visitor (IP) may take in an hour, each charged
# what it really took: usual previews cost milliseconds, the worst most of a second.
PREVIEW_CPU_SECONDS_PER_HOUR = env_int("PREVIEW_CPU_SECONDS_PER_HOUR", 30)
SIGNUP_RATE_LIMIT_PER_HOUR = env_int("SIGNUP_RATE_LIMIT_PER_HOUR", 20)
# Groups (groups/): how long an invitation's link works, and how many addresses one
# group may invite in a day (each address also counts against its own hourly limit).
GROUP_INVITE_LINK_MAX_AGE_DAYS = env_int("GROUP_INVITE_LINK_MAX_AGE_DAYS", 14)
GROUP_INVITATIONS_PER_DAY = env_int("GROUP_INVITATIONS_PER_DAY", 50)
# How many reverse proxies in front of the site append to X-Forwarded-For
# (the visitor's address, for rate limits and the consent record).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Security. Production (DEBUG off) is HTTPS-only unless told otherwise.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A 4xx is in the web server's access log already (gunicorn's, or runserver's
        # django.server); Django's own "Not Found: /x" would say it a second time.
        # Errors (5xx, with their traceback) are still logged.
        "django.request": {"level": "ERROR"},
        # django-axes announces itself at INFO in every process, every start.
        "axes": {"level": "WARNING"},
    },
}
