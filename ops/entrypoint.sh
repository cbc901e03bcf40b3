#!/bin/sh
# Container entrypoint (also usable directly on a host): wait for the database, then
#   web     migrate (MIGRATE_ON_START, default true), create the cache table, exec gunicorn;
#   worker  wait until migrations are applied, exec the job worker (audit sealing, retention);
#   manage  ARGS...: any management command (e.g. `manage createsuperuser`, `manage check_keys`);
#   anything else is exec'd as given.
# Keys come from files: KEY_FILE (field and blind-index keys, "audit_signing") and, if set,
# SECRET_KEY_FILE / DATABASE_URL_FILE / AUDIT_SIGNING_KEY_FILE / METRICS_TOKEN_FILE (compose secrets).
set -eu

PYTHON=${PYTHON:-python}
APP_DIR=${APP_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
MANAGE="$PYTHON $APP_DIR/manage.py"

# NAME_FILE=/run/secrets/x -> NAME=<contents>, unless NAME is already set.
for name in SECRET_KEY DATABASE_URL AUDIT_SIGNING_KEY METRICS_TOKEN; do
    file=$(eval "printf '%s' \"\${${name}_FILE:-}\"")
    current=$(eval "printf '%s' \"\${${name}:-}\"")
    if [ -n "$file" ] && [ -z "$current" ]; then
        if [ ! -r "$file" ]; then
            echo "Configuration error: ${name}_FILE=$file is not readable." >&2
            exit 2
        fi
        value=$(cat "$file")
        export "$name=$value"
    fi
done

role=${1:-web}
[ $# -gt 0 ] && shift

$MANAGE wait_for_db --timeout "${DB_WAIT_SECONDS:-60}"

case "$role" in
    web)
        if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
            # Metrics of several gunicorn workers are aggregated through files; start empty.
            mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
            rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
        fi
        if [ "${MIGRATE_ON_START:-true}" = "true" ]; then
            $MANAGE migrate --noinput
            $MANAGE createcachetable
        fi
        exec $PYTHON -m gunicorn --chdir "$APP_DIR" -c "${GUNICORN_CONF:-$APP_DIR/gunicorn.conf.py}" \
            casemgmt.wsgi:application "$@"
        ;;
    worker)
        waited=0
        until $MANAGE migrate --check >/dev/null 2>&1; do
            waited=$((waited + 2))
            if [ "$waited" -gt "${DB_WAIT_SECONDS:-60}" ]; then
                echo "worker: migrations still not applied after ${waited}s" >&2
                exit 1
            fi
            sleep 2
        done
        exec $MANAGE run_worker "$@"
        ;;
    manage)
        exec $MANAGE "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
