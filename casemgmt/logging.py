"""Logging filters that keep personal data out of logs.

Searches put names and dates of birth into query strings (``?name=Müller``); the
development server's request log and the access logs of most servers print them. This
filter removes every query string from request log lines; ``gunicorn.conf.py`` does the
same for production access logs.
"""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?[^\s\"]*")


class RedactQueryStrings(logging.Filter):
    """Replace ``?...`` in request lines with ``?[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = _QUERY.sub("?[redacted]", message)
            record.args = None
        return True
