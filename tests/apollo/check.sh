#!/usr/bin/env bash
# Apollo Client (npm @apollo/client) with its automatic persisted queries link against a live
# workplan server (fresh SQLite database): every check in check.mjs must pass.
#   WORKPLAN_BIN=target/debug/workplan bash tests/apollo/check.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -x "${WORKPLAN_BIN:-}" ] || { echo "apollo: WORKPLAN_BIN must point at the workplan binary" >&2; exit 1; }
if [ ! -d "$HERE/node_modules/@apollo/client" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
fi
TMP="$(mktemp -d)"
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
DATABASE_URL="sqlite://$TMP/apollo.db?mode=rwc" "$WORKPLAN_BIN" serve --listen "127.0.0.1:$PORT" >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do
  if node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$PORT/healthz"; then break; fi
  kill -0 "$PID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
  sleep 0.5
done
node "$HERE/check.mjs" "http://127.0.0.1:$PORT/graphql"
