#!/usr/bin/env bash
# The benchmarks (BENCHMARKS.md says what they measure and how to read them).
#
#   bench/run.sh [--suite supervision|peers] [--sizes "20000 200000"] [--ops "Q1 Q2"]
#                [--servers "workplan postgraphile4 postgraphile5"] [--duration 10s] [--reps 50]
#                [--concurrency "16 64"] [--c1-ops "Q3"] [--profile] [--keep] [--out FILE]
#   bench/run.sh --smoke
#
# Two suites, each an operation prefix in bench/queries/<server>/:
#   supervision (the default; M1–M4): workplan's supervision reads; concurrency "1 16";
#       results in bench/results/<date>.md.
#   peers (Q1–Q4): workplan against PostGraphile v4 and v5 over the same database: the dashboard,
#       an agency's page, one task, submitting a report; concurrency "16 64", Q3 also at 1;
#       results in bench/results/<date>-peers.md, with ratios to the best PostGraphile.
#
# Builds workplan in release mode (its own target dir: $BENCH_TARGET_DIR, default
# ~/.cache/workplan-bench-target; or takes $BENCH_WORKPLAN_BIN as it is), installs the pinned
# PostGraphile packages and Node 22 into ~/.cache/workplan-bench-node when a server needs them,
# starts a private PostgreSQL 15 cluster in a temp dir (removed at exit), and for each size N: a
# database with `workplan migrate` + `seed --demo --reports N`; then for each server
# (bench/servers/<name>.sh) and each of its operations: the sequential latency over one
# keep-alive connection (bench/measure.py) and wrk at each concurrency (bench/wrk/graphql.lua;
# GraphQL errors in 200 answers count as errors), with the server's CPU and memory and
# PostgreSQL's CPU (bench/procs.py) and the SQL statements per request (pg_stat_statements).
# Writes bench/results/<date>[-peers].md (or --out).
#
# --smoke: the peers suite against workplan alone, 2000 reports, 3 repetitions after 1 warm-up,
# wrk for 2 s at c=2 (Q3 also at 1), Q4 with 3 agencies' tokens, into a temp file (or --out);
# fails when any load run failed a request or sent none. With BENCH_WORKPLAN_BIN set (CI: its
# debug build) it needs no build and no network; under a minute.
#
# --profile logs every SQL statement (log_min_duration_statement=0), with the plan and timings
# (EXPLAIN ANALYZE, by auto_explain) of each taking 10 ms or more, and skips wrk: each
# operation's statements land in bench/results/profile-<date>/<server>-<size>-<op>.log.
#
# Slow (minutes): never part of CI's pass/fail, which parses the scripts and runs --smoke.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

BENCH_SUITE=${BENCH_SUITE:-supervision}
BENCH_SMOKE=0
BENCH_PROFILE=${BENCH_PROFILE:-0}
BENCH_KEEP=${BENCH_KEEP:-0}
OUT=
while [ $# -gt 0 ]; do
  case $1 in
    --suite) BENCH_SUITE=$2; shift 2 ;;
    --sizes) BENCH_SIZES=$2; shift 2 ;;
    --ops) BENCH_OPS=$2; shift 2 ;;
    --duration) BENCH_DURATION=$2; shift 2 ;;
    --reps) BENCH_REPS=$2; shift 2 ;;
    --concurrency) BENCH_CONCURRENCY=$2; shift 2 ;;
    --c1-ops) BENCH_C1_OPS=$2; shift 2 ;;
    --servers) BENCH_SERVERS=$2; shift 2 ;;
    --smoke) BENCH_SMOKE=1; shift ;;
    --profile) BENCH_PROFILE=1; shift ;;
    --keep) BENCH_KEEP=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
if [ "$BENCH_SMOKE" = 1 ]; then
  BENCH_SUITE=peers
  BENCH_SERVERS=${BENCH_SERVERS:-workplan}
  BENCH_SIZES=${BENCH_SIZES:-2000}
  BENCH_DURATION=${BENCH_DURATION:-2s}
  BENCH_REPS=${BENCH_REPS:-3}
  BENCH_WARMUP=${BENCH_WARMUP:-1}
  BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-2}
  BENCH_Q4_AGENCIES=${BENCH_Q4_AGENCIES:-3}
  BENCH_SETTLE=${BENCH_SETTLE:-0}
fi
case $BENCH_SUITE in
  supervision)
    PREFIX=M
    BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-"1 16"}
    BENCH_SERVERS=${BENCH_SERVERS:-workplan}
    BENCH_C1_OPS=${BENCH_C1_OPS:-}
    SUFFIX= ;;
  peers)
    PREFIX=Q
    BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-"16 64"}
    BENCH_SERVERS=${BENCH_SERVERS:-"workplan postgraphile4 postgraphile5"}
    BENCH_C1_OPS=${BENCH_C1_OPS-Q3}
    SUFFIX=-peers ;;
  *) die "unknown suite $BENCH_SUITE (supervision or peers)" ;;
esac
BENCH_SIZES=${BENCH_SIZES:-"20000 200000"}
BENCH_OPS=${BENCH_OPS:-}
BENCH_DURATION=${BENCH_DURATION:-10s}
BENCH_REPS=${BENCH_REPS:-50}
BENCH_WARMUP=${BENCH_WARMUP:-5}
BENCH_SETTLE=${BENCH_SETTLE:-1}
# How many agencies (the first by id that have responsibilities) get a reporter token for Q4;
# all of them by default (42 in the plan: 459 responsibilities).
BENCH_Q4_AGENCIES=${BENCH_Q4_AGENCIES:-1000}
export BENCH_KEEP BENCH_C1_OPS BENCH_WARMUP BENCH_SETTLE

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
WORK=$(mktemp -d "${TMPDIR:-/tmp}/workplan-bench-work.XXXXXX")
if [ "$BENCH_SMOKE" = 1 ]; then
  OUT=${OUT:-$WORK/smoke.md}
else
  mkdir -p "$RESULTS_DIR"
  OUT=${OUT:-$RESULTS_DIR/$STAMP$SUFFIX.md}
fi
RESULTS=$WORK/results.jsonl
LOADS=$WORK/loads.jsonl
SERVERS_INFO=$WORK/servers.jsonl
: >"$RESULTS"
: >"$LOADS"
: >"$SERVERS_INFO"

cleanup() {
  local server
  for server in $BENCH_SERVERS; do "${server}_stop" || true; done
  pg_stop
  if [ "$BENCH_KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

workplan_build
for server in $BENCH_SERVERS; do
  if [ "$(type -t "${server}_setup")" = function ]; then "${server}_setup"; fi
done
if [ "$BENCH_PROFILE" = 1 ]; then
  pg_start log_min_duration_statement=0 session_preload_libraries=auto_explain \
    auto_explain.log_min_duration=10 auto_explain.log_analyze=on auto_explain.log_buffers=on
  PROFILE_DIR=$RESULTS_DIR/profile-$STAMP
  mkdir -p "$PROFILE_DIR"
else
  pg_start
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# peers_prepare DB: what the peers operations vary over, for every server alike: the agencies
# that have responsibilities (Q2, by name), the task numbers (Q3), and the slots of Q4
# (bench/slots.py): an agency-reporter token for each agency (workplan token create), with the
# agency's responsibilities.
peers_prepare() {
  local db=$1 id name secret
  # PostGraphile's Q1 finds each task's latest report by `submitted_at DESC, id DESC`
  # (it cannot order by workplan's COALESCE(submitted_at, created_at), whose index it does not
  # see as a column's). A PostGraphile deployment would index the order it reads, and v5 offers
  # an ordering only on a column some index holds, so the peers get that index here. workplan's
  # reads never use it; its writes maintain it like every other index on the table.
  pg_sql "$db" "CREATE INDEX bench_peers_reports_task_submitted ON progress_reports (task_id, submitted_at, id)"
  pg_value "$db" "SELECT json_build_object('name', name) FROM agencies a
    WHERE EXISTS (SELECT 1 FROM responsibilities r WHERE r.agency_id = a.id) ORDER BY id" >"$WORK/$db-vars-agencies.jsonl"
  pg_value "$db" "SELECT json_build_object('number', number) FROM tasks ORDER BY number" >"$WORK/$db-vars-tasks.jsonl"
  : >"$WORK/$db-pairs.txt"
  while IFS=$'\t' read -r id name; do
    secret=$(workplan_token "$db" "bench-agency-$id" "$name")
    [ -n "$secret" ] || die "workplan token create failed for $name"
    pg_value "$db" "SELECT '$secret', r.agency_id, t.id, t.number FROM responsibilities r
      JOIN tasks t ON t.id = r.task_id WHERE r.agency_id = $id ORDER BY t.number" | tr '|' ' ' >>"$WORK/$db-pairs.txt"
  done < <(pg_value "$db" "SELECT id || E'\t' || name FROM agencies a
    WHERE EXISTS (SELECT 1 FROM responsibilities r WHERE r.agency_id = a.id) ORDER BY id LIMIT $BENCH_Q4_AGENCIES")
  python3 "$BENCH_DIR/slots.py" --out "$WORK/$db-slots.txt" <"$WORK/$db-pairs.txt"
  log "Q4: $(wc -l <"$WORK/$db-pairs.txt") responsibilities of $(cut -d' ' -f2 "$WORK/$db-pairs.txt" | sort -u | wc -l) agencies with a token each"
}

for size in $BENCH_SIZES; do
  db=bench_$size
  pg_sql postgres "CREATE DATABASE $db"
  log "seeding $size demo reports"
  ms=$(workplan_load "$db" "$size")
  [ "$BENCH_SUITE" != peers ] || peers_prepare "$db"
  # As autovacuum would in time: statistics, and the visibility map index-only scans need.
  pg_sql "$db" "VACUUM ANALYZE"
  db_restore_point "$db"
  log "visibility map: $(pg_value "$db" "SELECT relallvisible || ' of ' || relpages FROM pg_class WHERE relname = 'progress_reports'") pages of progress_reports all-visible"
  rows=$(pg_value "$db" "SELECT count(*) FROM progress_reports")
  db_bytes=$(pg_value "$db" "SELECT pg_database_size(current_database())")
  printf '{"size":%s,"seed_ms":%s,"reports":%s,"db_bytes":%s}\n' "$size" "$ms" "$rows" "$db_bytes" >>"$LOADS"
  for server in $BENCH_SERVERS; do
    port=$(free_port)
    "${server}_start" "$db" "$port"
    url=$("${server}_graphql_url" "$port")
    statements_url=$("${server}_statements_url" "$port")
    idle=$(python3 "$BENCH_DIR/procs.py" snapshot --server "$("${server}_pid")" --postmaster "$(pg_postmaster)")
    for file in "$BENCH_DIR/queries/$server/$PREFIX"*.graphql; do
      [ -f "$file" ] || die "no bench/queries/$server/$PREFIX*.graphql"
      op=$(basename "$file" .graphql)
      if [ -n "$BENCH_OPS" ] && ! grep -qw -- "${op%%-*}" <<<"$BENCH_OPS"; then continue; fi
      log_from=$( [ "$BENCH_PROFILE" = 1 ] && stat -c %s "$PG_LOG" || echo 0)
      measure_op "$server" "$size" "$file" "$url" "$statements_url" "$db"
      if [ "$BENCH_PROFILE" = 1 ]; then
        tail -c +"$((log_from + 1))" "$PG_LOG" >"$PROFILE_DIR/$server-$size-$op.log"
        log "statements of $op: $PROFILE_DIR/$server-$size-$op.log"
      fi
    done
    end=$(python3 "$BENCH_DIR/procs.py" snapshot --server "$("${server}_pid")" --postmaster "$(pg_postmaster)")
    printf '{"server":"%s","size":%s,"idle":%s,"end":%s}\n' "$server" "$size" "$idle" "$end" >>"$SERVERS_INFO"
    "${server}_stop"
  done
  pg_sql postgres "DROP DATABASE $db"
done

report_args=(--results "$RESULTS" --loads "$LOADS" --out "$OUT" --duration "$BENCH_DURATION" --reps "$BENCH_REPS"
  --load-before "$LOAD_BEFORE" --commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  --postgres "$("$PG_BIN/postgres" --version)" --rustc "$(rustc --version 2>/dev/null || echo unknown)")
if [ "$BENCH_SUITE" = peers ]; then
  python3 "$BENCH_DIR/report_peers.py" "${report_args[@]}" --servers-info "$SERVERS_INFO" \
    --responses "$WORK/responses" --concurrency "$BENCH_CONCURRENCY" --warmup "$BENCH_WARMUP" \
    --binary "$( [ -n "${BENCH_WORKPLAN_BIN:-}" ] && echo "$BENCH_WORKPLAN_BIN (BENCH_WORKPLAN_BIN)" || echo release)" \
    ${BENCH_SMOKE:+--smoke "$BENCH_SMOKE"}
else
  python3 "$BENCH_DIR/report.py" "${report_args[@]}"
fi
log "results: $OUT"
if [ "$BENCH_SMOKE" = 1 ]; then
  cat "$OUT"
  python3 "$BENCH_DIR/report_peers.py" --check-errors "$RESULTS" || die "the smoke run had failed requests"
fi
