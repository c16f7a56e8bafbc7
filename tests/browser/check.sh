#!/usr/bin/env bash
# Real-browser check of the embedded GraphiQL page.
#
#   WORKPLAN_BIN=target/release/workplan bash tests/browser/check.sh
#
# Starts the workplan server on a free loopback port with a fresh SQLite database,
# opens http://127.0.0.1:PORT/ in headless Debian Chromium (driven by playwright-core)
# with the network limited to loopback, waits for GraphiQL to render, runs the
# "Dashboard" example tab (the whole plan in one query) and expects the result to contain the title of
# section I. Fails on render timeout, missing result, any non-local request, or a
# JS error on the page. Screenshot: target/browser-check.png (override with
# BROWSER_CHECK_SCREENSHOT).
#
# Local development only: BROWSER_CHECK_RENDER_ONLY=1 skips the query step, and if
# WORKPLAN_BIN is unset in that mode the page and its assets are served from a
# static stand-in (python3 -m http.server) instead of the real server.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
ASSETS="$REPO/crates/api/assets/graphiql"
RENDER_ONLY="${BROWSER_CHECK_RENDER_ONLY:-0}"
SCREENSHOT="${BROWSER_CHECK_SCREENSHOT:-$REPO/target/browser-check.png}"
CHROMIUM="${BROWSER_CHECK_CHROMIUM:-/usr/bin/chromium}"

say() { echo "browser-check: $*"; }
die() {
  echo "browser-check: ERROR: $*" >&2
  echo "browser-check: 0 passed, 1 failed"
  exit 1
}

if [ "$RENDER_ONLY" != 1 ] && [ -z "${WORKPLAN_BIN:-}" ]; then
  die "WORKPLAN_BIN must point at the built workplan server binary"
fi
if [ -n "${WORKPLAN_BIN:-}" ] && [ ! -x "$WORKPLAN_BIN" ]; then
  die "WORKPLAN_BIN=$WORKPLAN_BIN is not an executable file"
fi
command -v node >/dev/null || die "node is required"
command -v npm >/dev/null || die "npm is required"
command -v python3 >/dev/null || die "python3 is required"

# --- Chromium -----------------------------------------------------------------
if [ ! -x "$CHROMIUM" ]; then
  [ "$CHROMIUM" = /usr/bin/chromium ] || die "BROWSER_CHECK_CHROMIUM=$CHROMIUM does not exist"
  say "installing Debian chromium"
  SUDO=
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "/usr/bin/chromium is missing and we are not root (no sudo)"
    SUDO=sudo
  fi
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
  [ -x /usr/bin/chromium ] || die "apt-get install chromium did not provide /usr/bin/chromium"
fi
say "$("$CHROMIUM" --version 2>/dev/null | tail -n 1)"

# --- playwright-core ------------------------------------------------------------
want_pw="$(node -e 'console.log(require(process.argv[1]).packages["node_modules/playwright-core"].version)' "$HERE/package-lock.json")"
have_pw="$(node -e 'try{console.log(require(process.argv[1]).version)}catch{console.log("")}' "$HERE/node_modules/playwright-core/package.json")"
if [ "$have_pw" != "$want_pw" ]; then
  say "installing playwright-core $want_pw (npm ci)"
  (cd "$HERE" && npm ci --no-audit --no-fund --ignore-scripts) || die "npm ci in tests/browser failed"
fi

# --- server ---------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/workplan-browser.XXXXXX")"
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_server_log() {
  if [ -s "$TMP/server.log" ]; then
    echo "----- server log (last 60 lines) -----" >&2
    tail -n 60 "$TMP/server.log" >&2
    echo "--------------------------------------" >&2
  fi
}

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"

if [ -n "${WORKPLAN_BIN:-}" ]; then
  say "starting $WORKPLAN_BIN on 127.0.0.1:$PORT"
  DATABASE_URL="sqlite://$TMP/workplan.db?mode=rwc" "$WORKPLAN_BIN" serve --listen "127.0.0.1:$PORT" \
    > "$TMP/server.log" 2>&1 &
  SERVER_PID=$!
else
  say "WORKPLAN_BIN unset: serving a static stand-in of the page on 127.0.0.1:$PORT (render-only)"
  mkdir -p "$TMP/standin/graphiql/assets"
  cp "$ASSETS"/* "$TMP/standin/graphiql/assets/"
  cp "$ASSETS/index.html" "$TMP/standin/index.html"
  echo ok > "$TMP/standin/healthz"
  python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$TMP/standin" > "$TMP/server.log" 2>&1 &
  SERVER_PID=$!
fi

say "waiting for GET $BASE/healthz"
deadline=$((SECONDS + 60))
until node -e 'fetch(process.argv[1]).then(r => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))' "$BASE/healthz"; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    show_server_log
    die "the server exited before /healthz answered"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    show_server_log
    die "GET /healthz did not answer 200 within 60 s"
  fi
  sleep 0.5
done
say "server is up"

# --- browser --------------------------------------------------------------------
mkdir -p "$(dirname "$SCREENSHOT")"
rc=0
BROWSER_CHECK_URL="$BASE/" \
BROWSER_CHECK_SCREENSHOT="$SCREENSHOT" \
BROWSER_CHECK_CHROMIUM="$CHROMIUM" \
BROWSER_CHECK_RENDER_ONLY="$RENDER_ONLY" \
  node "$HERE/check.mjs" || rc=$?

if [ "$rc" -ne 0 ]; then
  show_server_log
  echo "browser-check: 0 passed, 1 failed"
  exit 1
fi
if [ "$RENDER_ONLY" = 1 ]; then
  echo "browser-check: 1 passed, 0 failed (render only, query step skipped)"
else
  echo "browser-check: 1 passed, 0 failed"
fi
