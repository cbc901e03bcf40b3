"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemgmt.settings")

application = get_wsgi_application()

# A wrong key must stop the service at start-up, not at the first request that reads data.
from privacy.startup import verify_keys_against_data  # noqa: E402

verify_keys_against_data()
