"""Start-up check of the keys against the data: a wrong key stops the service before it serves.

Missing or malformed keys already stop settings from loading. A key with the right form but
the wrong material (a typo in a secret store, another installation's key) is only visible
against stored data: at start-up one value per encrypted column is decrypted, and any key id
found in the data but absent from the configuration is reported.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.utils import DatabaseError

from privacy.cipher import crypto
from privacy.rotation import one_value_per_column

logger = logging.getLogger(__name__)


def verify_keys_against_data() -> int:
    """Decrypt one stored value per encrypted column; raise ImproperlyConfigured if one fails."""
    checked = 0
    try:
        for field, pk, stored in one_value_per_column():
            try:
                field.open(stored, pk=pk)
            except crypto.DecryptionError as exc:
                raise ImproperlyConfigured(
                    f"The configured encryption keys cannot read stored data ({exc}). "
                    "Refusing to start: check FIELD_ENCRYPTION_KEYS / KEY_FILE."
                ) from None
            checked += 1
    except DatabaseError as exc:
        # No database yet (first deployment before migrate) or not reachable: nothing to check.
        logger.warning("Key check against stored data skipped: %s", type(exc).__name__)
    finally:
        # Do not hand this connection to forked workers (gunicorn --preload).
        if not connection.in_atomic_block:
            connection.close()
    return checked
