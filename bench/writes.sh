#!/usr/bin/env bash
# Write throughput: W writers, each with an API token of its own (its own province), submit
# reports as fast as they can, each on a key of its own (bench/wrk/submit.lua), against
# `workplan serve` (release) on a private PostgreSQL cluster holding `seed --demo` data. One or
# more binaries are compared on the same data: each run gets a fresh copy of one seeded database
# (CREATE DATABASE … TEMPLATE), the binary's own `migrate`, then wrk; the binaries take turns,
# run by run, so that a busy machine slows them alike. See BENCHMARKS.md ("Writes").
#
#   bench/writes.sh --bin before=PATH --bin after=PATH     # compare two builds
#   bench/writes.sh                                        # this checkout, built in release
# Options:
#   --bin NAME=PATH   a workplan binary to measure (repeatable; default: this checkout's release
#                     build, in BENCH_TARGET_DIR or ~/.cache/workplan-bench-target)
#   --writers N       concurrent writers, one connection each (default 16)
#   --duration D      wrk's duration per run (default 20s)
#   --runs N          runs per binary (default 3; the median is reported)
#   --reports N       demo reports seeded first (default 20000; the oldest binary migrates and
#                     seeds, so it must be the first --bin)
#   --fsync on|off    PostgreSQL's fsync and synchronous_commit (default on: every commit waits
#                     for its WAL flush, as in production; bench/run.sh uses off)
#   --pool N          the server's database pool (default 10, workplan's default)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
source "$BENCH_DIR/lib.sh"

BINS=()
WRITERS=16
DURATION=20s
RUNS=3
REPORTS=20000
FSYNC=on
POOL=10
while [ $# -gt 0 ]; do
  case $1 in
    --bin) BINS+=("$2"); shift 2 ;;
    --writers) WRITERS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --reports) REPORTS=$2; shift 2 ;;
    --fsync) FSYNC=$2; shift 2 ;;
    --pool) POOL=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
need wrk wrk
need curl curl
if [ ${#BINS[@]} -eq 0 ]; then
  target=${BENCH_TARGET_DIR:-$HOME/.cache/workplan-bench-target}
  log "building workplan (release) in $target"
  (cd "$ROOT" && CARGO_TARGET_DIR=$target cargo build --release --locked -q -p workplan-server) ||
    die "the release build failed"
  BINS=("this=$target/release/workplan")
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/workplan-writes.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start "fsync=$FSYNC" "synchronous_commit=$FSYNC" "max_connections=200" \
  "shared_preload_libraries=pg_stat_statements" "pg_stat_statements.track=all"
pg_sql postgres "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"

# The seeded database every run copies, made by the first binary.
first=${BINS[0]#*=}
pg_sql postgres "CREATE DATABASE seeded"
DATABASE_URL=$(pg_url seeded) "$first" migrate >/dev/null 2>&1 || die "migrate failed"
if [ "$REPORTS" -gt 0 ]; then
  log "seeding $REPORTS demo reports"
  DATABASE_URL=$(pg_url seeded) "$first" seed --demo --reports "$REPORTS" >/dev/null 2>&1 || die "seed failed"
fi
pg_sql seeded "VACUUM ANALYZE"
# One province each: the provinces' codes, in order.
mapfile -t PROVINCES < <(pg_value seeded "SELECT code FROM provinces ORDER BY code LIMIT $WRITERS")
[ "${#PROVINCES[@]}" -eq "$WRITERS" ] || die "only ${#PROVINCES[@]} provinces for $WRITERS writers"

# statements DB: the statements PostgreSQL has run in DB since the last reset, every one of
# them (BEGIN, COMMIT, SET and lock calls too).
statements() { pg_value postgres "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$1')"; }

# run NAME BIN N: one run of BIN on a fresh copy; prints one JSON line.
run() {
  local name=$1 bin=$2 n=$3 db="run_${1//[^a-zA-Z0-9]/_}_$3" port url out line before after
  pg_sql postgres "CREATE DATABASE $db TEMPLATE seeded"
  DATABASE_URL=$(pg_url "$db") "$bin" migrate >/dev/null 2>&1 || die "$name: migrate failed"
  : >"$WORK/tokens"
  for code in "${PROVINCES[@]}"; do
    DATABASE_URL=$(pg_url "$db") RUST_LOG=warn "$bin" token create --role province-reporter --province "$code" \
      --name "writer-$code" 2>/dev/null | tail -n 1 >>"$WORK/tokens"
  done
  port=$(free_port)
  DATABASE_URL=$(pg_url "$db") WORKPLAN_RATE_LIMIT_CAPACITY=0 WORKPLAN_RATE_LIMIT_REQUESTS=0 WORKPLAN_DB_MAX_CONNECTIONS=$POOL RUST_LOG=warn \
    "$bin" serve --listen "127.0.0.1:$port" >>"$WORK/server-$name.log" 2>&1 &
  SERVER_PID=$!
  wait_http "http://127.0.0.1:$port/readyz" 60 || die "$name did not start: $(tail -5 "$WORK/server-$name.log")"
  url=http://127.0.0.1:$port
  pg_value postgres "SELECT pg_stat_statements_reset()" >/dev/null
  before=$(statements "$db")
  out=$(wrk -t"$WRITERS" -c"$WRITERS" -d"$DURATION" --timeout 30s -s "$BENCH_DIR/wrk/submit.lua" "$url/graphql" -- "$WORK/tokens")
  after=$(statements "$db")
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  line=$(printf '%s\n' "$out" | sed -n 's/^WRK_RESULT //p')
  [ -n "$line" ] || die "wrk printed no result: $out"
  pg_sql postgres "DROP DATABASE $db"
  printf '{"bin":"%s","run":%s,"statements":%s,"wrk":%s}\n' "$name" "$n" "$((after - before))" "$line"
}

log "$WRITERS writers, $DURATION a run, $RUNS runs per binary, fsync=$FSYNC, pool $POOL, load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $(seq 1 "$RUNS"); do
  for entry in "${BINS[@]}"; do
    line=$(run "${entry%%=*}" "${entry#*=}" "$n")
    log "$line"
    printf '%s\n' "$line" >>"$WORK/results.jsonl"
  done
done
python3 - "$WORK/results.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| binary | runs | req/s (median; each run) | p50 / p99 ms (median run) | errors | SQL statements per write |")
print("|---|---|---|---|---|---|")
for name in dict.fromkeys(r["bin"] for r in rows):
    mine = sorted((r for r in rows if r["bin"] == name), key=lambda r: r["wrk"]["rps"])
    mid = mine[len(mine) // 2]
    rps = ", ".join(f'{r["wrk"]["rps"]:.0f}' for r in mine)
    errors = sum(r["wrk"]["errors"] + r["wrk"]["socket_errors"] for r in mine)
    per = statistics.median(r["statements"] / max(r["wrk"]["requests"], 1) for r in mine)
    print(f'| {name} | {len(mine)} | **{statistics.median(r["wrk"]["rps"] for r in mine):.0f}** ({rps}) '
          f'| {mid["wrk"]["p50_ms"]:.1f} / {mid["wrk"]["p99_ms"]:.1f} | {errors} | {per:.1f} |')
EOF
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
