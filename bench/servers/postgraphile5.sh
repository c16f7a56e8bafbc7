# shellcheck shell=bash
# PostGraphile v5 for bench/run.sh --suite peers (the interface: bench/servers/workplan.sh).
# The package pinned in bench/servers/postgraphile5/package-lock.json with the amber preset
# (bench/servers/postgraphile5/graphile.config.mjs: pool of 10, no watch, no explain, no
# GraphiQL), on the Node 22 pinned in bench/servers/node/ (v5 needs Node >= 22), installed on
# first use into ~/.cache/workplan-bench-node (never into the repository). It introspects the
# benchmark database itself (schema public) as the superuser postgres of the private cluster:
# no roles, no row-level security, no JWT. NODE_ENV=production.

POSTGRAPHILE5_NODE=
POSTGRAPHILE5_DIR=
POSTGRAPHILE5_PID=

postgraphile5_setup() {
  POSTGRAPHILE5_NODE=$(node_install node)/node_modules/.bin/node
  POSTGRAPHILE5_DIR=$(node_install postgraphile5)
  [ -x "$POSTGRAPHILE5_NODE" ] && [ -f "$POSTGRAPHILE5_DIR/node_modules/postgraphile/dist/cli-run.js" ] ||
    die "PostGraphile v5 is not installed in $POSTGRAPHILE5_DIR"
  # The config imports the preset: it must sit next to node_modules.
  cp "$BENCH_DIR/servers/postgraphile5/graphile.config.mjs" "$POSTGRAPHILE5_DIR/"
  log "PostGraphile $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$POSTGRAPHILE5_DIR/node_modules/postgraphile/package.json") on Node $("$POSTGRAPHILE5_NODE" --version)"
}

postgraphile5_start() {
  local port=$2
  (cd "$POSTGRAPHILE5_DIR" && DATABASE_URL=$(pg_url "$1") NODE_ENV=production exec "$POSTGRAPHILE5_NODE" \
    node_modules/postgraphile/dist/cli-run.js --config graphile.config.mjs --host 127.0.0.1 --port "$port" \
    >>"$WORK/postgraphile5-$1.log" 2>&1) &
  POSTGRAPHILE5_PID=$!
  wait_graphql "http://127.0.0.1:$port/graphql" 120 ||
    die "PostGraphile v5 did not start: $(tail -5 "$WORK/postgraphile5-$1.log")"
}

postgraphile5_stop() {
  [ -n "$POSTGRAPHILE5_PID" ] || return 0
  kill "$POSTGRAPHILE5_PID" 2>/dev/null || true
  wait "$POSTGRAPHILE5_PID" 2>/dev/null || true
  POSTGRAPHILE5_PID=
}

postgraphile5_pid() { echo "$POSTGRAPHILE5_PID"; }
postgraphile5_graphql_url() { printf 'http://127.0.0.1:%s/graphql' "$1"; }
postgraphile5_statements_url() { :; }
