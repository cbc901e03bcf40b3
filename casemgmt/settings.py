"""Settings, all from the environment (see README.md, "Configuration").

Production secrets have no defaults: without ``SECRET_KEY`` or the encryption keys the
process stops at start-up with a message saying what to set.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from privacy.cipher.keys import load_keyrings
from privacy.signing import load_signing_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random value (it signs sessions; it is "
            "never used for field encryption). Only DEBUG=true runs without it."
        )
    SECRET_KEY = "django-insecure-development-only-" + "x" * 40

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "auditlog",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "privacy",
    "casemgmt",
    "api",
]

MIDDLEWARE = [
    # /healthz and /readyz (casemgmt/health.py), before the HTTPS redirect and the host check:
    # they answer only those two exact paths, with fixed bodies.
    "casemgmt.health.ProbeMiddleware",
    # Request ids in logs and the X-Request-ID response header.
    "casemgmt.logging.RequestIdMiddleware",
    # Latency and query counts by view; /metrics only with METRICS_TOKEN (casemgmt/metrics.py).
    "casemgmt.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's CSS, Swagger UI) from the app itself, compressed and cached.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # German API texts with Accept-Language: de (error details and choice labels); English otherwise.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Actor and address of every audit entry; DRF token authentication fills in the actor.
    "privacy.audit.TrustedProxyAuditlogMiddleware",
    # Login lockout (django-axes) for the Django admin and the API token login; last, as axes asks.
    "axes.middleware.AxesMiddleware",
]

# Benchmarks only (bench/): comparison models and endpoints, and per-request query counts.
BENCH = env_bool("BENCH", False)
if BENCH:
    INSTALLED_APPS.append("bench")
    MIDDLEWARE.insert(0, "bench.middleware.QueryCountMiddleware")

ROOT_URLCONF = "casemgmt.urls"
WSGI_APPLICATION = "casemgmt.wsgi.application"
AUTH_USER_MODEL = "casemgmt.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'casemgmt.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_PREPARED_STATEMENTS", True
):
    # Server-side binding, and psycopg prepares a statement on its fifth run on a connection
    # (persistent connections: CONN_MAX_AGE): a hot read (the family list, the dashboard's one
    # statement) skips PostgreSQL's planning. Turn off behind a transaction-mode pooler that
    # cannot keep prepared statements (PgBouncer before 1.21).
    # The backend is Django's, with bulk writes batched under the protocol's 65,535 parameters
    # (casemgmt/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "casemgmt.db.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"server_side_binding": True, "prepare_threshold": 5})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    # Wait for a writer instead of failing at once; IMMEDIATE avoids deadlocking upgrades.
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Keys (privacy/keys.py): from the environment or KEY_FILE, never from the database.
FIELD_ENCRYPTION_KEYRING, BLIND_INDEX_KEYRING = load_keyrings(
    env=dict(os.environ), debug=DEBUG, dev_key_file=VAR_DIR / "dev-keys.json"
)

# --- Audit transparency log (privacy/transparency.py): checkpoints are signed with an Ed25519 key
# from the environment or KEY_FILE, separate from the field keys; development generates one.
AUDIT_SIGNING_KEY = load_signing_key(
    env=dict(os.environ),
    debug=DEBUG,
    dev_key_file=VAR_DIR / "dev-audit-signing-key.json",
    field_keys=[*FIELD_ENCRYPTION_KEYRING.keys.values(), *BLIND_INDEX_KEYRING.keys.values()],
)
AUDIT_PUBLIC_KEY = os.environ.get("AUDIT_PUBLIC_KEY", "")  # verify against this key instead of the signer's
AUDIT_LOG_ORIGIN = os.environ.get("AUDIT_LOG_ORIGIN", "casemgmt audit log")
AUDIT_SEAL_INTERVAL_SECONDS = float(os.environ.get("AUDIT_SEAL_INTERVAL_SECONDS", "2"))
AUDIT_MAX_MERGE_DELAY_SECONDS = int(os.environ.get("AUDIT_MAX_MERGE_DELAY_SECONDS", "60"))
RETENTION_HOUR = int(os.environ.get("RETENTION_HOUR", "2"))  # local hour of the nightly retention run

# --- Background jobs (django-tasks with its database backend; worker: manage.py run_worker).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Deadlines and reminders (casemgmt/selectors/deadlines.py, privacy/jobs.py).
DEADLINE_HORIZON_DAYS = int(os.environ.get("DEADLINE_HORIZON_DAYS", "14"))  # "due" = within this many days
DEADLINE_REFERRAL_RESPONSE_DAYS = int(os.environ.get("DEADLINE_REFERRAL_RESPONSE_DAYS", "14"))
DEADLINE_DORMANT_WEEKS = int(os.environ.get("DEADLINE_DORMANT_WEEKS", "6"))  # no contact for N weeks
REMINDER_HOUR = int(os.environ.get("REMINDER_HOUR", "6"))  # local hour of the daily reminder run
# E-mail reminders are off unless switched on; the message holds counts and a link, never personal data.
REMINDER_EMAILS = env_bool("REMINDER_EMAILS")
REMINDER_LINK = os.environ.get("REMINDER_LINK", "/api/v1/dashboard/")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "casemgmt@localhost")

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "casemgmt.passwords.RepetitivePasswordValidator"},
]
# No guardian "AnonymousUser" account: anonymous requests never get object permissions.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTHENTICATION_BACKENDS = [
    # First: refuses locked-out usernames before any password is checked (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# WhiteNoise serves STATIC_ROOT (filled by `collectstatic`, done when the image is built) with
# compressed variants; without a manifest, so a missing collectstatic degrades to 404s, not 500s.
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# In development (runserver) the files come straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG

# --- Operations (casemgmt/health.py, casemgmt/metrics.py).
# /readyz fails when the job worker's heartbeat is older than this (it beats every few seconds).
READINESS_WORKER_MAX_AGE_SECONDS = float(os.environ.get("READINESS_WORKER_MAX_AGE_SECONDS", "120"))
# Bearer token for /metrics; unset: no metrics endpoint (404).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.AuditedTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.StandardPagination",
    "DEFAULT_METADATA_CLASS": "api.metadata.InputMetadata",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["api.filters.FilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login_address": os.environ.get("LOGIN_RATE_PER_ADDRESS", "30/min"),
        "login_username": os.environ.get("LOGIN_RATE_PER_USERNAME", "10/min"),
    },
    # 0 unless proxies are configured: with None DRF keys throttles on the whole (client-chosen)
    # X-Forwarded-For header, so a rotating header was never throttled.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES") or "0"),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=float(os.environ.get("TOKEN_TTL_HOURS", "8"))),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "USER_SERIALIZER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Family case management API",
    "DESCRIPTION": (
        "Integration case management with families (Kommunales Integrationsmanagement). "
        "Personal data is encrypted at field level; names and dates of birth are searched "
        "through keyed blind indexes."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI from this server's static files (drf-spectacular-sidecar), not from a CDN:
    # works offline and sends no user's address to a third party.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ReportIndicatorCodeEnum": "casemgmt.models.reporting.ReportIndicator.Code",
        "MatchEnum": "casemgmt.models.families.DuplicateReview.Match",
        "DataCategoryEnum": "privacy.classification.DataCategory",
        "SharedCategoryEnum": "casemgmt.models.casework.SharedCategory",
        "BenefitStatusEnum": "casemgmt.models.families.BenefitStatus",
        "MembershipRoleEnum": "casemgmt.models.organisations.Role",
        "PersonRoleEnum": "casemgmt.models.families.Person.Role",
        "FamilyStatusEnum": "casemgmt.models.families.Family.Status",
        "OpenFamilyStatusEnum": "api.families.serializers.OPEN_FAMILY_STATUSES",
        "ClosureOutcomeEnum": "casemgmt.models.families.Family.ClosureOutcome",
        "OrganisationKindEnum": "casemgmt.models.organisations.Organisation.Kind",
        "GoalStatusEnum": "casemgmt.models.casework.Goal.Status",
        "ReferralStatusEnum": "casemgmt.models.casework.Referral.Status",
        "ConferenceStatusEnum": "casemgmt.models.casework.CaseConference.Status",
        "ParticipantKindEnum": "casemgmt.models.casework.ConferenceParticipant.Kind",
        "ContactKindEnum": "casemgmt.models.casework.Contact.Kind",
        "AgencyEnum": "casemgmt.models.casework.Agency",
        "AssessmentKindEnum": "casemgmt.models.plans.Assessment.Kind",
        "PlanVersionStatusEnum": "casemgmt.models.plans.PlanVersion.Status",
    },
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "cache_entries",
    }
    if os.environ.get("CACHE_BACKEND", "locmem" if DEBUG else "database") == "database"
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Security. Production defaults are strict; `manage.py check --deploy` passes.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = 8 * 3600
DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000
# Small uploads stay in memory; larger ones go to a temporary file that holds ciphertext
# only (casemgmt/uploads.py): a scanned document never lies in /tmp in clear.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "casemgmt.uploads.EncryptedTemporaryFileUploadHandler",
]

# Logs never carry request bodies or field values; DecryptionError messages name only
# the column and the key id.
# LOG_FORMAT=json (production default): one JSON object per line with the request id, the
# exception's type but no traceback text (casemgmt/logging.py); plain in development.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "casemgmt.logging.JsonFormatter"},
    },
    "filters": {
        "redact_query_strings": {"()": "casemgmt.logging.RedactQueryStrings"},
        "request_id": {"()": "casemgmt.logging.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact_query_strings"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING", "propagate": True},
        # The development server's request lines, through the redacting handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo")

# --- Audit (privacy/audit.py): django-auditlog with our entry model and masked encrypted fields.
AUDITLOG_LOGENTRY_MODEL = "privacy.AuditEntry"
# auditlog's migrations would still create its own (unused, swapped-out) table, whose foreign
# key to users blocks table flushes on PostgreSQL; without them Django creates no such table.
MIGRATION_MODULES = {"auditlog": None}
AUDITLOG_MASK_CALLABLE = "privacy.audit.mask"
AUDITLOG_DISABLE_REMOTE_ADDR = False
# A write of an audited model outside ``audited(actor=..., activity=...)`` raises when this is
# on (the test settings do); otherwise it is filed as "unattributed" and logged as an error.
AUDIT_REQUIRE_SCOPE = env_bool("AUDIT_REQUIRE_SCOPE", False)


def _key_file_entry(name: str) -> str:
    """An optional top-level string entry of KEY_FILE (the statistics secret lives beside the keys)."""
    import json

    path = os.environ.get("KEY_FILE", "").strip()
    if not path:
        return ""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8")).get(name, "")
    except (OSError, ValueError, AttributeError):
        return ""  # the keyring loader above already refused a missing or malformed file
    return value if isinstance(value, str) else ""


def _check_stats_parameters(max_noise: int, variance: float, threshold: int, median_min: int) -> None:
    from privacy.perturbation import Parameters, check_parameters

    check_parameters(Parameters(max_noise, variance, threshold, median_min))


# --- Statistics (privacy/perturbation.py): the cell key method; see README "Outcome statistics".
# Perturbed counts below the threshold are withheld (true zeros included).
STATS_SUPPRESSION_THRESHOLD = int(os.environ.get("STATS_SUPPRESSION_THRESHOLD", "5"))
# Largest noise added to a count (D) and the noise variance (V, 0 < V < D**2). The figures'
# accuracy depends on V; a wider bound D at the same V makes extreme noises rarer, and pinning
# a small count by differencing needs extreme noises on every figure used (README: 3 of 11
# simulated installations gave one count away with D = 2, none of 12 with D = 3).
STATS_MAX_NOISE = int(os.environ.get("STATS_MAX_NOISE", "3"))
STATS_NOISE_VARIANCE = float(os.environ.get("STATS_NOISE_VARIANCE", "1.0"))
# Medians and durations are published only for cells of at least this (perturbed) size.
STATS_MEDIAN_MIN_COUNT = int(os.environ.get("STATS_MEDIAN_MIN_COUNT", "20"))
# The secret that orders the perturbation table (base64, 32 bytes): from the environment or
# the key file's "statistics" entry; when unset it is derived from the active encryption key.
STATS_PERTURBATION_KEY = os.environ.get("STATS_PERTURBATION_KEY", "").strip() or _key_file_entry("statistics")
_check_stats_parameters(
    STATS_MAX_NOISE, STATS_NOISE_VARIANCE, STATS_SUPPRESSION_THRESHOLD, STATS_MEDIAN_MIN_COUNT
)

# Break the glass: how long an emergency opening of a family lasts.
EMERGENCY_ACCESS_HOURS = float(os.environ.get("EMERGENCY_ACCESS_HOURS", "24"))

# Consents (Schweigepflichtentbindung): with this on, a consent lets case work share only
# once its signed form is attached (a document with target "consent"); off, the API still
# reports whether it is (has_signed_form).
CONSENT_REQUIRE_SIGNED_FORM = env_bool("CONSENT_REQUIRE_SIGNED_FORM", False)

# --- Accounts (issue 12, part 2): deputies, set-password tokens, login lockout (django-axes).
# A deputyship ends after DEPUTY_DEFAULT_DAYS unless an earlier end is given; never later
# than DEPUTY_MAX_DAYS after it is named.
DEPUTY_DEFAULT_DAYS = int(os.environ.get("DEPUTY_DEFAULT_DAYS", "14"))
DEPUTY_MAX_DAYS = int(os.environ.get("DEPUTY_MAX_DAYS", "90"))
# A one-time set-password token (new accounts, forgotten passwords) is valid this long.
SET_PASSWORD_TOKEN_HOURS = float(os.environ.get("SET_PASSWORD_TOKEN_HOURS", "72"))
# django-axes: after AXES_FAILURE_LIMIT failed logins for one username, or from one client
# address, further logins of that username (address) are locked for AXES_COOLOFF_MINUTES, in
# the Django admin and on the API token login alike.
# Counters live in the cache (the database cache in production: shared by app servers), keyed
# by a hash of the normalised username, so no attempted username is stored in clear.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "casemgmt.lockout.hashed_username"
AXES_CLIENT_IP_CALLABLE = "casemgmt.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "casemgmt.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # One process (development server, tests): a per-process cache counts every attempt.
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]
# Reopening a family in an emergency within this many hours after the same user's last
# emergency access to it ended (early or by expiry) needs a supervisor's approval.
EMERGENCY_REOPEN_WINDOW_HOURS = float(os.environ.get("EMERGENCY_REOPEN_WINDOW_HOURS", "72"))

# --- Issue 19 (handover, documents): offers lapse; documents are encrypted files in a storage.
# A handover offer nobody decides lapses after HANDOVER_OFFER_DAYS.
HANDOVER_OFFER_DAYS = int(os.environ.get("HANDOVER_OFFER_DAYS", "14"))
# Attachments (PDF, PNG, JPEG): at most DOCUMENT_MAX_BYTES each (default 20 MB). They are
# encrypted before they reach the storage, so any Django storage backend (the filesystem by
# default, object storage via django-storages) holds ciphertext only.
DOCUMENT_MAX_BYTES = int(os.environ.get("DOCUMENT_MAX_BYTES", str(20 * 1024 * 1024)))
DOCUMENT_ROOT = os.environ.get("DOCUMENT_ROOT", str(VAR_DIR / "documents"))
STORAGES["documents"] = {  # the static files' storage (WhiteNoise) is set above
    "BACKEND": os.environ.get("DOCUMENT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
    "OPTIONS": {"location": DOCUMENT_ROOT} if "DOCUMENT_STORAGE_BACKEND" not in os.environ else {},
}
