"""WSGI entry point for gunicorn."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemgmt.settings")

try:
    application = get_wsgi_application()

    # A wrong key must stop the service at start-up, not at the first request that reads data.
    from privacy.startup import verify_keys_against_data

    verify_keys_against_data()
except ImproperlyConfigured as exc:
    # One clear line instead of a traceback; exit status 3 is gunicorn's "worker failed to
    # boot", on which the master stops instead of restarting workers in a loop.
    sys.stderr.write(f"Configuration error: {exc}\n")
    sys.stderr.flush()
    sys.exit(3)
