#!/bin/sh
# Back up the database: ops/backup.sh [DIR]   (DIR default $BACKUP_DIR or ./backups)
#
# Writes DIR/casemgmt-<UTC time>.dump (pg_dump custom format, restorable with pg_restore) and
# a .sha256 beside it. Personal data in the dump is ciphertext; the keys are NOT in it.
# Keys are backed up separately: with KEY_BACKUP_DIR set, KEY_FILE is copied there, and the
# script refuses a KEY_BACKUP_DIR inside DIR (a backup holding both data and keys protects nothing).
#
# Needs DATABASE_URL (postgres://user:password@host:port/db) and pg_dump of the server's major
# version (or newer). In compose: docker compose exec app ops/backup.sh /backups
set -eu

: "${DATABASE_URL:?DATABASE_URL must name the database to back up}"
case "$DATABASE_URL" in
    postgres://* | postgresql://*) ;;
    *) echo "backup: DATABASE_URL is not PostgreSQL; back up SQLite by copying the file" >&2; exit 2 ;;
esac
dir=${1:-${BACKUP_DIR:-backups}}
umask 077
mkdir -p "$dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
dump="$dir/casemgmt-$stamp.dump"

pg_dump --format=custom --no-owner --no-privileges --file "$dump.partial" --dbname "${DATABASE_URL%%\?*}"
mv "$dump.partial" "$dump"
(cd "$dir" && sha256sum "$(basename "$dump")" >"$(basename "$dump").sha256")

if [ -n "${KEY_BACKUP_DIR:-}" ]; then
    : "${KEY_FILE:?KEY_BACKUP_DIR needs KEY_FILE (the keys to copy)}"
    mkdir -p "$KEY_BACKUP_DIR"
    data_dir=$(cd "$dir" && pwd -P)
    key_dir=$(cd "$KEY_BACKUP_DIR" && pwd -P)
    case "$key_dir/" in
        "$data_dir"/*)
            echo "backup: KEY_BACKUP_DIR must not be inside the data backup directory" >&2
            exit 2
            ;;
    esac
    cp "$KEY_FILE" "$key_dir/keys-$stamp.json"
    echo "keys:     $key_dir/keys-$stamp.json"
fi
echo "database: $dump"
