"""Test settings: fixed throw-away keys, a fast password hasher, local-memory cache."""

import os

from privacy.cipher.keys import new_key

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "y" * 40)
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", f"test1:{new_key()},test0:{new_key()}")
os.environ.setdefault("FIELD_ENCRYPTION_ACTIVE_KEY", "test1")
os.environ.setdefault("BLIND_INDEX_KEYS", f"btest1:{new_key()}")
os.environ.setdefault("AUDIT_SIGNING_KEY", new_key())
os.environ.setdefault("CACHE_BACKEND", "locmem")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

from casemgmt.settings import *  # noqa: F403

# Every audited write must name its actor and activity (privacy.audit.audited).
AUDIT_REQUIRE_SCOPE = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"login_address": "1000/min", "login_username": "1000/min"},
}
# Lockout as in production is tested with override_settings (tests/api/test_accounts.py); the
# suite's many deliberate failures from 127.0.0.1 must not lock each other out.
AXES_FAILURE_LIMIT = 1000
# WhiteNoise looks files up per request: no warning for a STATIC_ROOT the suite never collects
# into, and tests that collect into a temporary STATIC_ROOT are served from it.
WHITENOISE_AUTOREFRESH = True
# Documents in memory: no files left behind, no clash between parallel test workers.
STORAGES = {**STORAGES, "documents": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}  # noqa: F405
