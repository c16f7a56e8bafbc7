#!/usr/bin/env bash
# The database going away mid-traffic: a private PostgreSQL cluster is stopped under a running
# workplan and started again. While it is down, requests that need it get clean errors (no hang,
# no SQL), the plan still answers from memory, and
# /readyz says not ready (within a second) while /healthz stays up; afterwards everything works again without
# restarting the service.
#   WORKPLAN_BIN=target/debug/workplan bash tests/faults/db-restart.sh
set -euo pipefail
[ -x "${WORKPLAN_BIN:-}" ] || { echo "db-restart: WORKPLAN_BIN must point at the workplan binary" >&2; exit 1; }
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
AS_PG=()
[ "$(id -u)" = 0 ] && AS_PG=(runuser -u postgres --)
TMP="$(mktemp -d)"
chmod 777 "$TMP"
PGDATA="$TMP/pgdata"
PGPORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
PID=
pg() { "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -o "-p $PGPORT -k $TMP -c listen_addresses=127.0.0.1" -l "$TMP/pg.log" -w "$@" >/dev/null; }
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  pg stop -m immediate 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "db-restart: FAIL: $*" >&2; echo "db-restart: 0 passed, 1 failed"; exit 1; }

"${AS_PG[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust >/dev/null
pg start
"${AS_PG[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres workplan

DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/workplan" "$WORKPLAN_BIN" serve --listen "127.0.0.1:$PORT" >"$TMP/server.log" 2>&1 &
PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.25; done
ask() { curl -sS -m 15 -H 'content-type: application/json' -d "{\"query\":\"$1\"}" "$BASE/graphql"; }
# Reports are read from the database on every request; the plan is served from memory.
query() { ask '{ progressReports(first: 1) { totalCount } }'; }
plan() { ask '{ plan { taskCount } }'; }
status() { curl -s -o /dev/null -m 15 -w '%{http_code}' "$BASE/$1"; }

query | grep -q '"totalCount":0' || fail "the first query did not answer"
[ "$(status readyz)" = 200 ] || fail "not ready at start"

pg stop -m fast
start=$(date +%s)
down="$(query || true)"
took=$(( $(date +%s) - start ))
echo "$down" | grep -q '"code":"INTERNAL"' || fail "while the database is down, expected a clean INTERNAL error, got: $down"
echo "$down" | grep -qiE 'select|sqlx|connection refused|/src/' && fail "the error leaks internals: $down"
[ "$took" -le 12 ] || fail "the request hung for $took s"
plan | grep -q '"taskCount":106' || fail "the plan should still answer from memory while the database is down"
# Within a second, as probes commonly give up after one (curl -m 1: no answer is 000).
ready_down="$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$BASE/readyz" || true)"
[ "$ready_down" = 503 ] || fail "/readyz should say not ready within 1 s while the database is down, got: $ready_down"
[ "$(status healthz)" = 200 ] || fail "/healthz should stay up"

pg start
ok=
for _ in $(seq 1 60); do
  if query | grep -q '"totalCount":0'; then ok=1; break; fi
  sleep 0.5
done
[ -n "$ok" ] || fail "no recovery after the database came back"
[ "$(status readyz)" = 200 ] || fail "not ready after recovery"
kill -0 "$PID" 2>/dev/null || fail "the service died"
echo "db-restart: 1 passed, 0 failed"
