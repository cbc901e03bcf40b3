"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py casemgmt.wsgi``.

The access log leaves out query strings (``%(U)s`` is the path only): searches carry names
and dates of birth in them.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
timeout = 30
limit_request_line = 8190
