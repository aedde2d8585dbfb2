#!/usr/bin/env bash
# Installs the system packages chat needs, only those missing (Debian/Ubuntu, apt), with one
# `apt-get update` at most. `--with-postgresql-server`: also a PostgreSQL server's programs,
# which only the tests need (they start throwaway servers of their own).
set -euo pipefail
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
for pair in libzmq:libzmq3-dev libcrypto:libssl-dev sqlite3:libsqlite3-dev libedit:libedit-dev libpq:libpq-dev; do
    module=${pair%%:*} package=${pair##*:}
    pkg-config --exists "$module" 2>/dev/null || missing+=("$package")
done
# The NAT lab tests use network namespaces and iptables.
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
if [ "${1:-}" = "--with-postgresql-server" ]; then
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
fi
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${missing[*]}" >&2
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
