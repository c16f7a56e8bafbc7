# shellcheck shell=bash
# PostGraphile v4 for bench/run.sh --suite peers (the interface: bench/servers/workplan.sh).
# Its CLI, pinned in bench/servers/postgraphile4/package-lock.json, on the Node 22 pinned in
# bench/servers/node/, both installed on first use into ~/.cache/workplan-bench-node (never into
# the repository). It introspects the benchmark database itself (schema public), as the
# superuser postgres of the private cluster: no roles, no row-level security, no JWT, so
# its write (Q4) checks nothing of what workplan's does. Pool of 10 connections (as workplan's),
# no query log, no GraphiQL, no watch mode, NODE_ENV=production.

POSTGRAPHILE4_NODE=
POSTGRAPHILE4_DIR=
POSTGRAPHILE4_PID=

postgraphile4_setup() {
  POSTGRAPHILE4_NODE=$(node_install node)/node_modules/.bin/node
  POSTGRAPHILE4_DIR=$(node_install postgraphile4)
  [ -x "$POSTGRAPHILE4_NODE" ] && [ -f "$POSTGRAPHILE4_DIR/node_modules/postgraphile/cli.js" ] ||
    die "PostGraphile v4 is not installed in $POSTGRAPHILE4_DIR"
  log "PostGraphile $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$POSTGRAPHILE4_DIR/node_modules/postgraphile/package.json") on Node $("$POSTGRAPHILE4_NODE" --version)"
}

postgraphile4_start() {
  local port=$2
  NODE_ENV=production "$POSTGRAPHILE4_NODE" "$POSTGRAPHILE4_DIR/node_modules/postgraphile/cli.js" \
    --connection "$(pg_url "$1")" --schema public --host 127.0.0.1 --port "$port" \
    --max-pool-size 10 --disable-query-log --disable-graphiql >>"$WORK/postgraphile4-$1.log" 2>&1 &
  POSTGRAPHILE4_PID=$!
  wait_graphql "http://127.0.0.1:$port/graphql" 120 ||
    die "PostGraphile v4 did not start: $(tail -5 "$WORK/postgraphile4-$1.log")"
}

postgraphile4_stop() {
  [ -n "$POSTGRAPHILE4_PID" ] || return 0
  kill "$POSTGRAPHILE4_PID" 2>/dev/null || true
  wait "$POSTGRAPHILE4_PID" 2>/dev/null || true
  POSTGRAPHILE4_PID=
}

postgraphile4_pid() { echo "$POSTGRAPHILE4_PID"; }
postgraphile4_graphql_url() { printf 'http://127.0.0.1:%s/graphql' "$1"; }
postgraphile4_statements_url() { :; }
