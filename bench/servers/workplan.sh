# shellcheck shell=bash
# The workplan server for bench/run.sh. A server file defines, for its NAME:
#   NAME_start DB PORT   start it on 127.0.0.1:PORT over database DB of the private cluster;
#                        return once it answers
#   NAME_stop            stop it
#   NAME_pid             the process id of the running server (bench/procs.py reads its CPU
#                        time and memory)
#   NAME_graphql_url PORT, NAME_statements_url PORT (may print nothing: no statement count)
#   NAME_setup           (optional) run once before anything else: install, build
# and its operations are bench/queries/NAME/*.graphql. workplan also owns the data: it is built
# first (workplan_build) and loads each database (workplan_load); it also makes the API tokens
# of the write benchmark (workplan_token).

WORKPLAN_BIN=
WORKPLAN_PID=

# Builds the release binary in its own target dir, or takes $BENCH_WORKPLAN_BIN as it is (the
# smoke run in CI reuses its debug build).
workplan_build() {
  local target=${BENCH_TARGET_DIR:-$HOME/.cache/workplan-bench-target}
  if [ -n "${BENCH_WORKPLAN_BIN:-}" ]; then
    [ -x "$BENCH_WORKPLAN_BIN" ] || die "BENCH_WORKPLAN_BIN=$BENCH_WORKPLAN_BIN is not an executable"
    WORKPLAN_BIN=$BENCH_WORKPLAN_BIN
    log "workplan: $WORKPLAN_BIN (BENCH_WORKPLAN_BIN, not built)"
    return
  fi
  log "building workplan (release) in $target"
  (cd "$ROOT" && CARGO_TARGET_DIR=$target cargo build --release --locked -q -p workplan-server) ||
    die "the release build failed"
  WORKPLAN_BIN=$target/release/workplan
}

# workplan_load DB N: migrates DB, loads the plan and seeds N demo reports; prints the
# milliseconds the seeding took.
workplan_load() {
  local url start
  url=$(pg_url "$1")
  DATABASE_URL=$url "$WORKPLAN_BIN" migrate >/dev/null 2>&1 || die "workplan migrate failed"
  start=$(date +%s%N)
  DATABASE_URL=$url "$WORKPLAN_BIN" seed --demo --reports "$2" >&2 || die "workplan seed failed"
  echo $((($(date +%s%N) - start) / 1000000))
}

# workplan_token DB NAME AGENCY: creates an agency-reporter token for AGENCY (its name) in DB;
# prints the secret.
workplan_token() {
  DATABASE_URL=$(pg_url "$1") "$WORKPLAN_BIN" token create --name "$2" --role agency-reporter --agency "$3" \
    2>/dev/null | tail -1
}

workplan_start() {
  local url port=$2
  url=$(pg_url "$1")
  # Rate limiting off (both limits 0): the load generator is one client. Operations beyond the
  # bound on those executing at once (twice the pool) wait up to 10 s for a turn, as PostGraphile's
  # wait for a pool connection, instead of the default 250 ms and then 503: the benchmark
  # measures throughput, not load shedding.
  DATABASE_URL=$url WORKPLAN_RATE_LIMIT_CAPACITY=0 WORKPLAN_RATE_LIMIT_REQUESTS=0 WORKPLAN_OPERATION_QUEUE_MS=10000 \
    RUST_LOG=${BENCH_SERVER_LOG:-warn} \
    "$WORKPLAN_BIN" serve --listen "127.0.0.1:$port" >>"$WORK/workplan-$1.log" 2>&1 &
  WORKPLAN_PID=$!
  wait_http "http://127.0.0.1:$port/readyz" 60 || die "workplan did not start: $(tail -5 "$WORK/workplan-$1.log")"
}

workplan_stop() {
  [ -n "$WORKPLAN_PID" ] || return 0
  kill "$WORKPLAN_PID" 2>/dev/null || true
  wait "$WORKPLAN_PID" 2>/dev/null || true
  WORKPLAN_PID=
}

workplan_pid() { echo "$WORKPLAN_PID"; }
workplan_graphql_url() { printf 'http://127.0.0.1:%s/graphql' "$1"; }
workplan_statements_url() { printf 'http://127.0.0.1:%s/metrics' "$1"; }
