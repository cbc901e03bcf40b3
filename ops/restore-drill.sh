#!/bin/sh
# Restore drill: ops/restore-drill.sh DUMP
#
# Restores a dump made by ops/backup.sh into a FRESH database on the same server (default name
# casemgmt_restore_drill; RESTORE_DATABASE to change; the database of DATABASE_URL is not
# touched), applies migrations, then proves the restore is usable:
#   check_keys    every encrypted value decrypts with the keys from the separate key backup
#                 (KEY_FILE, or the key variables);
#   verify_audit  the audit log's hashes, signed checkpoints and prunings verify.
# The drill database is dropped afterwards unless KEEP_RESTORED=true. Exit status 0: drill passed.
set -eu

dump=${1:?usage: ops/restore-drill.sh DUMP}
: "${DATABASE_URL:?DATABASE_URL must name a database on the server to restore into}"
PYTHON=${PYTHON:-python}
APP_DIR=${APP_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
target=${RESTORE_DATABASE:-casemgmt_restore_drill}
case "$target" in
    *[!A-Za-z0-9_]* | "") echo "restore: RESTORE_DATABASE must be letters, digits and _" >&2; exit 2 ;;
esac

base=${DATABASE_URL%%\?*}
server_db=${base##*/}
[ "$server_db" != "$target" ] || { echo "restore: refusing to restore over DATABASE_URL's database" >&2; exit 2; }
restore_url="${base%/*}/$target"

if [ -f "$dump.sha256" ]; then
    (cd "$(dirname "$dump")" && sha256sum --check --quiet "$(basename "$dump").sha256")
fi

psql --quiet --no-psqlrc --set ON_ERROR_STOP=1 --dbname "$base" \
    --command "DROP DATABASE IF EXISTS $target" --command "CREATE DATABASE $target"
cleanup() {
    if [ "${KEEP_RESTORED:-false}" != "true" ]; then
        psql --quiet --no-psqlrc --dbname "$base" --command "DROP DATABASE IF EXISTS $target" || true
    fi
}
trap cleanup EXIT

pg_restore --no-owner --no-privileges --exit-on-error --dbname "$restore_url" "$dump"
echo "restored $dump into $target"

export DATABASE_URL="$restore_url"
$PYTHON "$APP_DIR/manage.py" migrate --noinput
$PYTHON "$APP_DIR/manage.py" check_keys
$PYTHON "$APP_DIR/manage.py" verify_audit
echo "restore drill passed: keys read every value, the audit log verifies"
