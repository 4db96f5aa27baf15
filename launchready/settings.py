"""Settings for Launch Ready, read from the environment (django-environ).

Embedded default: SQLite under var/ and a filesystem Celery broker (no servers needed).
Production: DATABASE_URL (PostgreSQL) and REDIS_URL.
"""

import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("LAUNCHREADY_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
# A local .env (written by scripts/run on first use, never committed) sets DEBUG and a generated SECRET_KEY.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"] or env.bool("LAUNCHREADY_TESTING", default=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-never-use-in-production"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=1 for local development."
        )

# Key rotation (docs/operations.md): the previous key(s) still verify sessions, reset links and signed tokens.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "apps.core",
    "apps.tenants",
    "apps.clients",
    "apps.checklists",
    "apps.sprints",
    "apps.checks",
    "apps.monitoring",
    "apps.reports",
    "apps.billing",
    "apps.inbound",
    "apps.deploys",
]

# The deploy gate API (apps/deploys): views name their own authentication; the schema comes from drf-spectacular.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Launch Ready deploy gate API",
    "DESCRIPTION": "Report deploys and rollbacks from CI, get the smoke-test verdict, gate releases on readiness.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}
DEPLOY_API_RATE = env.str("DEPLOY_API_RATE", default="60/min")  # per deploy token
# The most a deploy-gate call holds its answer for the smoke verdict (the API accepts wait ≤ 25 s); lower it when a
# proxy in front of gunicorn times out sooner.
DEPLOY_WAIT_CAP_SECONDS = env.float("DEPLOY_WAIT_CAP_SECONDS", default=25.0)
# The deploy gate calls this with a deploy whose smoke test failed: monitoring alerts the client's channels.
DEPLOY_SMOKE_FAILED_HOOK = env.str("DEPLOY_SMOKE_FAILED_HOOK", default="apps.monitoring.notices.alert_smoke_failed")

MIDDLEWARE = [
    "apps.core.request_id.RequestIdMiddleware",
    "apps.core.body_limit.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "launchready.urls"
WSGI_APPLICATION = "launchready.wsgi.application"

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
                "apps.core.context_processors.product",
                "apps.core.csp.nonce",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'launchready.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions + a busy timeout: web, worker and beat are separate processes writing one file.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so a real worker process can see what a test wrote.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_launchready.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that is down or restarting must fail a request fast (a 503 page), not hang it: bounded connect.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
    # Short OLTP queries only: PostgreSQL's JIT (used above an estimated cost of 100,000) once spent 1.55 s compiling
    # a dashboard query that runs in 14 ms (docs/performance.md). PG_JIT=1 turns it back on.
    if not env.bool("PG_JIT", default=False):
        _options = DATABASES["default"].setdefault("OPTIONS", {})
        _options["options"] = (_options.get("options", "") + " -c jit=off").strip()
    # Parameters bound by the server, and a statement run twice on a connection is prepared: PostgreSQL then skips
    # parsing and planning the pages' repeated queries (its CPU per page roughly halved, docs/performance.md).
    # PG_SERVER_SIDE_BINDING=0 behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode
    # before 1.21, or without max_prepared_statements).
    if env.bool("PG_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = env.int("PG_PREPARE_THRESHOLD", default=2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour now: a scheme-less URL means https

AUTH_USER_MODEL = "tenants.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "tenants:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "tenants:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
# Login throttling (apps/tenants/throttle.py): failures per account and per IP within the lockout window.
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=20)
LOGIN_FAILURES_PER_ACCOUNT_ANY_IP = env.int("LOGIN_FAILURES_PER_ACCOUNT_ANY_IP", default=50)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# How many reverse proxies in front of the app append to X-Forwarded-For (0: trust only REMOTE_ADDR); read by
# apps.core.client_ip for every per-IP limit. TRUSTED_PROXY_HOPS is the name the self-serve limits once read alone.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=env.int("TRUSTED_PROXY_HOPS", default=0))
# Two-factor (django-otp TOTP): the issuer name authenticator apps show; a pending second step expires.
OTP_TOTP_ISSUER = "Launch Ready"
TWO_FACTOR_PENDING_SECONDS = 5 * 60
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
# English only: no catalogue of ours, no LocaleMiddleware. Off, Django's own strings come out the same (checked page
# by page, forms with errors included) and every request skips the translation machinery (3-5 % of a page's CPU,
# docs/performance.md round 5). Turn it on together with the first translation.
USE_I18N = False
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
LOGO_MAX_BYTES = 512 * 1024

# --- Email ------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
vars().update(EMAIL_CONFIG)
# Django waits forever for an SMTP server by default; invitations and alerts must fail (and say so) instead.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Launch Ready <noreply@launchready.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Delivery tests: founders send to check-<token>@INBOUND_EMAIL_DOMAIN, received by `manage.py smtpreceiver`.
INBOUND_EMAIL_DOMAIN = env.str("INBOUND_EMAIL_DOMAIN", default="inbound.launchready.local")
INBOUND_MAX_MESSAGE_BYTES = env.int("INBOUND_MAX_MESSAGE_BYTES", default=1024 * 1024)

# --- Security (production) --------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# apps/core/csp.py: scripts and styles from our own origin only; the few inline <style> blocks (brand colours) carry
# the per-request nonce. data: images are Pico's inline SVG icons. Empty: no header (e.g. a CDN sets it).
CONTENT_SECURITY_POLICY = env.str("CONTENT_SECURITY_POLICY", default=(
    "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"))
if not DEBUG and not TESTING:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a deliberate, hard-to-undo commitment for the whole domain and its subdomains: opt in
        # with SECURE_HSTS_PRELOAD=1 once every subdomain serves HTTPS (docs/operations.md).
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The cache holds login-throttle counters, which every web process must share: Redis when there is one.
# Tests keep the in-process cache (REDIS_URL is shared with other users of this Redis).
if REDIS_URL and not TESTING:
    # Bounded: redis-py waits forever by default, and a Redis that stops answering (not one that refuses) would
    # otherwise hang every login and order; the callers treat a cache error as "limit not enforced" and log it.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
                          "OPTIONS": {"socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT", default=1.0),
                                      "socket_timeout": env.float("CACHE_TIMEOUT", default=1.0)}}}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # acks_late: a task is redelivered if its worker dies; the timeout must outlast the longest task.
    # Socket timeouts: redis-py waits forever by default, so a Redis that takes the connection and never answers
    # hung the scan button until gunicorn killed the worker. Publishing now fails (the scan is recorded and a beat
    # sweep dispatches it later); 5 s leaves the workers' 1 s BRPOP polls a wide margin on a busy host.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
                                       "socket_connect_timeout": env.float("BROKER_CONNECT_TIMEOUT", default=3.0),
                                       "socket_timeout": env.float("BROKER_TIMEOUT", default=5.0)}
else:
    # Embedded broker: kombu's filesystem transport (see docs/decisions.md). Separate worker and beat
    # processes exchange messages through files under var/broker/.
    _broker_dir = VAR_DIR / ("test-broker" if TESTING else "broker")
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "launchready.broker:Transport"  # kombu's, with complete-or-absent message files
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The default 1 s would add up to a second to every task hop; a poll is one directory listing per queue.
        "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.02),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # The sweeps that supervise scans must not queue behind the scans they supervise (exact names win over globs).
    "apps.checks.tasks.finalize_overdue_scans": {"queue": "default"},
    "apps.checks.tasks.redispatch_stalled_parts": {"queue": "default"},
    "apps.checks.tasks.start_due_rescans": {"queue": "default"},
    "apps.checks.tasks.*": {"queue": "scans"},
    "apps.reports.tasks.*": {"queue": "reports"},
    "apps.monitoring.tasks.*": {"queue": "monitors"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "apps.core.tasks.heartbeat", "schedule": 60.0},
    # expires: a tick still queued when the next one is due is dropped, so a backlog never runs a sweep k times.
    "finalize-overdue-scans": {"task": "apps.checks.tasks.finalize_overdue_scans", "schedule": 30.0,
                               "options": {"expires": 30}},
    "redispatch-stalled-parts": {"task": "apps.checks.tasks.redispatch_stalled_parts", "schedule": 15.0,
                                 "options": {"expires": 15}},
    "redispatch-stalled-packs": {"task": "apps.reports.tasks.redispatch_stalled_packs", "schedule": 60.0},
    "billing-catch-up": {"task": "apps.billing.tasks.catch_up", "schedule": 60.0},
    "start-due-rescans": {"task": "apps.checks.tasks.start_due_rescans", "schedule": 300.0},
    # Monitoring: one tick finds due monitors and due alert deliveries; rollups and pruning once a minute.
    "monitoring-tick": {"task": "apps.monitoring.tasks.tick", "schedule": 2.0},
    "monitoring-rollup-and-prune": {"task": "apps.monitoring.tasks.rollup_and_prune", "schedule": 60.0},
}
# Fernet keys (comma-separated, newest first) for alert-channel secrets; empty: derived from SECRET_KEY (dev only).
# Monitoring regions: each is a queue monitors.<region> consumed by workers deployed there; every monitor is probed
# from each region and a failure must be seen from two regions to count (with one region, the re-check confirms).
MONITOR_REGIONS = env.list("MONITOR_REGIONS", default=["local"])
MONITORING_ENCRYPTION_KEYS = env.list("MONITORING_ENCRYPTION_KEYS", default=[])
SCAN_DEADLINE_SECONDS = env.int("SCAN_DEADLINE_SECONDS", default=300)
# A part not started this long after its scan was created, or started this long ago and unfinished, is published
# again (its task was lost with a broker, or its worker died): see apps/checks/pipeline.redispatch_stalled.
SCAN_PART_UNSTARTED_SECONDS = env.int("SCAN_PART_UNSTARTED_SECONDS", default=20)
SCAN_PART_STALLED_SECONDS = env.int("SCAN_PART_STALLED_SECONDS", default=90)
# A running task renews its host slots and marks its parts alive this often (well under both limits above/below).
SCAN_HEARTBEAT_SECONDS = env.float("SCAN_HEARTBEAT_SECONDS", default=20.0)
# Active checks (verified domains only): the load probe's rate and duration, kept small by default.
ACTIVE_SCAN_RATE = env.float("ACTIVE_SCAN_RATE", default=20.0)
ACTIVE_SCAN_DURATION = env.float("ACTIVE_SCAN_DURATION", default=10.0)
REPO_UPLOAD_MAX_BYTES = env.int("REPO_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
# Uploaded files (repository bundles, logos) readable by the app's user and group only, not by everyone on the host.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# Politeness: at most SCAN_HOST_CONCURRENCY connections to one target domain across all workers. A running part holds
# one of SCAN_HOST_CONCURRENCY // SCAN_PART_CONNECTIONS leases and opens at most SCAN_PART_CONNECTIONS at once.
SCAN_HOST_CONCURRENCY = env.int("SCAN_HOST_CONCURRENCY", default=8)
SCAN_PART_CONNECTIONS = env.int("SCAN_PART_CONNECTIONS", default=4)
SCAN_HOST_LEASE_SECONDS = env.int("SCAN_HOST_LEASE_SECONDS", default=120)  # outlives any part (checks time out)
SCAN_HOST_BUSY_RETRY_SECONDS = env.float("SCAN_HOST_BUSY_RETRY_SECONDS", default=0.2)
# Handover packs whose render was lost (broker down when queued, worker killed mid-PDF) are queued again after this
# long, at most PACK_RENDER_ATTEMPTS times; then the pack says it failed (apps/reports/documents.redispatch_stalled).
PACK_STALLED_SECONDS = env.int("PACK_STALLED_SECONDS", default=120)
PACK_RENDER_ATTEMPTS = env.int("PACK_RENDER_ATTEMPTS", default=3)
# A scan's parts are published as this many tasks (0: one per connection slot of its target, the most that can run
# at once; families that share fetches stay in one task: pipeline.plan_batches). One, measured fastest here: the scan
# runs on one event loop and one ScanNet holding all its slots; workers run different scans side by side.
SCAN_TASKS_PER_SCAN = env.int("SCAN_TASKS_PER_SCAN", default=1)
# Live progress: a running task records the parts it finished at most this often, counted from its start.
SCAN_LIVE_RECORD_SECONDS = env.float("SCAN_LIVE_RECORD_SECONDS", default=0.25)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Network profiles for the check engine (SPEC.md section 4) ----------------------------------
# Which profiles exist is decided here, never by a user. A task gets a profile *name*.
LAUNCHREADY_NETWORK = {
    # Tests never ask a real resolver: unless told otherwise, the "internet" profile's DNS goes to a closed port.
    "nameservers": env.list("LAUNCHREADY_NAMESERVERS", default=["127.0.0.1:9"] if TESTING else []),
    "ca_bundle": env.str("LAUNCHREADY_CA_BUNDLE", default=""),
    "port_map": env.str("LAUNCHREADY_PORT_MAP", default=""),
    "allowed_networks": env.list("LAUNCHREADY_ALLOWED_NETWORKS", default=[]),
}
# The test world (manage.py testworld) writes its addresses here; the "testworld" profile reads it.
TESTWORLD_STATE_FILE = Path(env.str("LAUNCHREADY_TESTWORLD_STATE", default=str(VAR_DIR / "testworld.json")))
DEFAULT_NETWORK_PROFILE = env.str("LAUNCHREADY_DEFAULT_PROFILE", default="internet")

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One key=value line per record with the request/task id; secrets masked (apps/core/logs.py).
    "formatters": {"kv": {"()": "apps.core.logs.KeyValueFormatter"}},
    "filters": {"request_id": {"()": "apps.core.logs.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "kv", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Self-serve readiness score (apps/billing, Stripe Checkout) ---------------------------------
# Without STRIPE_SECRET_KEY the self-serve page says payments are not configured.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Empty: api.stripe.com. Tests and the demo point it at the local fake (tests/fakestripe.py, manage.py fakestripe).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=8.0)  # seconds to wait for a Stripe answer (per try)
STRIPE_API_VERSION = "2026-10-28.endive"  # pinned: the version stripe==16.1.0 was generated for
SELF_SERVE_PRICE = env.int("SELF_SERVE_PRICE", default=4900)  # minor units; the server decides, never the form
SELF_SERVE_CURRENCY = env.str("SELF_SERVE_CURRENCY", default="usd").lower()  # Stripe answers in lower case
SELF_SERVE_PROFILE = env.str("SELF_SERVE_PROFILE", default=DEFAULT_NETWORK_PROFILE)
SELF_SERVE_LIMIT_PER_EMAIL = env.int("SELF_SERVE_LIMIT_PER_EMAIL", default=5)  # orders per hour
SELF_SERVE_LIMIT_PER_IP = env.int("SELF_SERVE_LIMIT_PER_IP", default=20)  # orders per hour
