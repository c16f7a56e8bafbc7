#!/usr/bin/env bash
# The supervision read benchmark (BENCHMARKS.md says what it measures and how to read it).
#
#   bench/run.sh [--sizes "20000 200000"] [--ops "M1 M2"] [--duration 10s] [--reps 50]
#                [--concurrency "1 16"] [--servers workplan] [--profile] [--keep] [--out FILE]
#
# Builds workplan in release mode (its own target dir: $BENCH_TARGET_DIR, default
# ~/.cache/workplan-bench-target), starts a private PostgreSQL 15 cluster in a temp dir (removed
# at exit), and for each size N: a database with `workplan migrate` + `seed --demo --reports N`;
# then for each server (bench/servers/<name>.sh) and each of its operations
# (bench/queries/<name>/*.graphql): the sequential latency over one keep-alive connection
# (bench/measure.py: p50/p99, SQL statements per request) and wrk at each concurrency (p50/p99,
# requests per second). Writes bench/results/<date>.md (or --out).
#
# --profile logs every SQL statement (log_min_duration_statement=0), with the plan and timings
# (EXPLAIN ANALYZE, by auto_explain) of each taking 10 ms or more, and skips wrk: each
# operation's statements land in bench/results/profile-<date>/<server>-<size>-<op>.log.
#
# Slow (minutes): never part of CI, which only checks the syntax (bash -n).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

BENCH_SIZES=${BENCH_SIZES:-"20000 200000"}
BENCH_OPS=${BENCH_OPS:-}
BENCH_DURATION=${BENCH_DURATION:-10s}
BENCH_REPS=${BENCH_REPS:-50}
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-"1 16"}
BENCH_SERVERS=${BENCH_SERVERS:-workplan}
BENCH_PROFILE=${BENCH_PROFILE:-0}
BENCH_KEEP=${BENCH_KEEP:-0}
OUT=
while [ $# -gt 0 ]; do
  case $1 in
    --sizes) BENCH_SIZES=$2; shift 2 ;;
    --ops) BENCH_OPS=$2; shift 2 ;;
    --duration) BENCH_DURATION=$2; shift 2 ;;
    --reps) BENCH_REPS=$2; shift 2 ;;
    --concurrency) BENCH_CONCURRENCY=$2; shift 2 ;;
    --servers) BENCH_SERVERS=$2; shift 2 ;;
    --profile) BENCH_PROFILE=1; shift ;;
    --keep) BENCH_KEEP=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
export BENCH_KEEP

need python3 python3
need curl curl
[ "$BENCH_PROFILE" = 1 ] || need wrk wrk
for server in $BENCH_SERVERS; do
  [ -f "$BENCH_DIR/servers/$server.sh" ] || die "no bench/servers/$server.sh"
  # shellcheck source=/dev/null
  source "$BENCH_DIR/servers/$server.sh"
done
# workplan owns the data, whatever is measured.
# shellcheck source=bench/servers/workplan.sh
source "$BENCH_DIR/servers/workplan.sh"

STAMP=$(date +%F)
RESULTS_DIR=$BENCH_DIR/results
mkdir -p "$RESULTS_DIR"
OUT=${OUT:-$RESULTS_DIR/$STAMP.md}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/workplan-bench-work.XXXXXX")
RESULTS=$WORK/results.jsonl
LOADS=$WORK/loads.jsonl
: >"$RESULTS"
: >"$LOADS"

cleanup() {
  local server
  for server in $BENCH_SERVERS; do "${server}_stop" || true; done
  pg_stop
  if [ "$BENCH_KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

workplan_build
if [ "$BENCH_PROFILE" = 1 ]; then
  pg_start log_min_duration_statement=0 session_preload_libraries=auto_explain \
    auto_explain.log_min_duration=10 auto_explain.log_analyze=on auto_explain.log_buffers=on
  PROFILE_DIR=$RESULTS_DIR/profile-$STAMP
  mkdir -p "$PROFILE_DIR"
else
  pg_start
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

for size in $BENCH_SIZES; do
  db=bench_$size
  pg_sql postgres "CREATE DATABASE $db"
  log "seeding $size demo reports"
  ms=$(workplan_load "$db" "$size")
  # As autovacuum would in time: statistics, and the visibility map index-only scans need.
  pg_sql "$db" "VACUUM ANALYZE"
  log "visibility map: $(pg_value "$db" "SELECT relallvisible || ' of ' || relpages FROM pg_class WHERE relname = 'progress_reports'") pages of progress_reports all-visible"
  rows=$(pg_value "$db" "SELECT count(*) FROM progress_reports")
  db_bytes=$(pg_value "$db" "SELECT pg_database_size(current_database())")
  printf '{"size":%s,"seed_ms":%s,"reports":%s,"db_bytes":%s}\n' "$size" "$ms" "$rows" "$db_bytes" >>"$LOADS"
  for server in $BENCH_SERVERS; do
    port=$(free_port)
    "${server}_start" "$db" "$port"
    url=$("${server}_graphql_url" "$port")
    statements_url=$("${server}_statements_url" "$port")
    for file in "$BENCH_DIR/queries/$server"/*.graphql; do
      op=$(basename "$file" .graphql)
      if [ -n "$BENCH_OPS" ] && ! grep -qw -- "${op%%-*}" <<<"$BENCH_OPS"; then continue; fi
      log_from=$( [ "$BENCH_PROFILE" = 1 ] && stat -c %s "$PG_LOG" || echo 0)
      measure_op "$server" "$size" "$file" "$url" "$statements_url"
      if [ "$BENCH_PROFILE" = 1 ]; then
        tail -c +"$((log_from + 1))" "$PG_LOG" >"$PROFILE_DIR/$server-$size-$op.log"
        log "statements of $op: $PROFILE_DIR/$server-$size-$op.log"
      fi
    done
    "${server}_stop"
  done
  pg_sql postgres "DROP DATABASE $db"
done

python3 "$BENCH_DIR/report.py" --results "$RESULTS" --loads "$LOADS" --out "$OUT" \
  --duration "$BENCH_DURATION" --reps "$BENCH_REPS" --load-before "$LOAD_BEFORE" \
  --commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --postgres "$("$PG_BIN/postgres" --version)" --rustc "$(rustc --version 2>/dev/null || echo unknown)"
log "results: $OUT"
