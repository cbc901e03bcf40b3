# syntax=docker/dockerfile:1
# Production image: `docker compose up` (compose.yaml) runs it as app and as worker.
# Two stages: wheels are built and installed in the first (with compilers, if a package ever
# needs one); the final stage copies only the virtualenv and the code, runs as a non-root user
# and has no build tools.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
# The lockfile first: the dependency layer is rebuilt only when the lock changes.
COPY requirements/prod.lock /tmp/prod.lock
RUN /opt/venv/bin/pip install --require-hashes -r /tmp/prod.lock

FROM ${PYTHON_IMAGE} AS final
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_DIR=/app \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/static \
    GUNICORN_BIND=0.0.0.0:8000 \
    DEBUG=false
RUN groupadd --system --gid 10001 casemgmt \
    && useradd --system --uid 10001 --gid casemgmt --home-dir /app --shell /usr/sbin/nologin casemgmt
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code runs from /app (not installed into the venv: templates and migrations stay beside it).
COPY manage.py gunicorn.conf.py ./
COPY casemgmt ./casemgmt
COPY api ./api
COPY privacy ./privacy
COPY ops/entrypoint.sh ops/backup.sh ops/restore-drill.sh ./ops/
# collectstatic needs settings but no secrets: throw-away values for this one command only.
RUN SECRET_KEY=build-only DEBUG=true VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var && chown casemgmt:casemgmt /app/var
USER casemgmt:casemgmt
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
ENTRYPOINT ["/app/ops/entrypoint.sh"]
CMD ["web"]
