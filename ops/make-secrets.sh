#!/bin/sh
# Create the secret files compose.yaml reads, in ./secrets (or $1), once per installation.
# Never overwrites an existing file: new keys would make stored data unreadable.
# Back up keys.json SEPARATELY from database backups (see ops/backup.sh): a database dump
# without its keys is ciphertext, and keys stored beside the dump protect nothing.
set -eu
dir=${1:-secrets}
mkdir -p "$dir"
chmod 700 "$dir"
umask 077

write() { # name, generator command
    if [ -e "$dir/$1" ]; then
        echo "kept     $dir/$1"
    else
        sh -c "$2" >"$dir/$1"
        echo "created  $dir/$1"
    fi
}

write secret_key "python3 -c \"import secrets;print(secrets.token_urlsafe(50))\""
write db_password "python3 -c \"import secrets;print(secrets.token_urlsafe(24))\""
write metrics_token "python3 -c \"import secrets;print(secrets.token_urlsafe(32))\""
write database_url "printf 'postgres://casemgmt:%s@db:5432/casemgmt\n' \"\$(cat '$dir/db_password')\""
write keys.json "python3 - <<'PY'
import base64, json, os
key = lambda: base64.b64encode(os.urandom(32)).decode()
print(json.dumps({
    'encryption': {'active': 'k1', 'keys': {'k1': key()}},
    'blind_index': {'active': 'b1', 'keys': {'b1': key()}},
    'audit_signing': {'key': key()},
    'statistics': key(),
}, indent=2))
PY"
