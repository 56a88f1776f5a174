#!/usr/bin/env bash
# Runs CMD... beside a throw-away PostgreSQL: a cluster in a temporary directory, listening on
# 127.0.0.1 and a socket in that directory only, with trust auth and no fsync. CMD sees
# CKS_TEST_DATABASE_URL, an admin URL the tests create their own databases through. The cluster
# is stopped and removed however CMD ends; the script exits with CMD's status.
#
#   scripts/with-postgres.sh cargo nextest run -p cks-store -p cksd
#
# CKS_PG_SERVER_OPTIONS adds server options (later ones win), e.g. "-c fsync=on -c synchronous_commit=on
# -c full_page_writes=on" for benchmark figures with a durable database.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD..." >&2
  exit 2
fi

# Debian's server binaries are not on PATH: /usr/lib/postgresql/<major>/bin, newest first.
bindir="${PG_BINDIR:-}"
if [ -z "$bindir" ]; then
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    bindir="$(dirname "$(command -v initdb)")"
  else
    bindir="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "with-postgres: no PostgreSQL server binaries (install the postgresql package)" >&2
  exit 1
fi

# initdb and postgres refuse to run as root: as root, the server runs as an unprivileged user.
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  server_user="${PG_SERVER_USER:-nobody}"
  as_server=(setpriv --reuid="$server_user" --regid="$(id -g "$server_user")" --clear-groups --)
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cks-pg.XXXXXX")"
[ "${#as_server[@]}" -gt 0 ] && chown "$server_user" "$tmp"
data="$tmp/data"
started=""

# shellcheck disable=SC2317  # called by the trap
cleanup() {
  trap '' INT TERM  # a second signal must not cut the cleanup short
  if [ -n "$started" ]; then
    "${as_server[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

db_user=cks_test
(cd "$tmp" && "${as_server[@]}" "$bindir/initdb" -D "$data" -U "$db_user" --auth=trust \
  --no-sync -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1) || {
  cat "$tmp/initdb.log" >&2
  exit 1
}

# A port free now; another process may take it before the server binds, so try a few.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
for _ in 1 2 3 4 5; do
  port="$(free_port)"
  if (cd "$tmp" && "${as_server[@]}" "$bindir/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 60 \
    -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB ${CKS_PG_SERVER_OPTIONS:-}" start >/dev/null); then
    started=1
    break
  fi
done
if [ -z "$started" ]; then
  echo "with-postgres: the server did not start:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi

export CKS_TEST_DATABASE_URL="postgres://$db_user@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $CKS_TEST_DATABASE_URL" >&2
status=0
"$@" || status=$?
exit "$status"
