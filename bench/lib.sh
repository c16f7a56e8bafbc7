# shellcheck shell=bash
# Helpers for bench/run.sh: logging, tools, ports, a private PostgreSQL cluster, and the
# measurement of one operation. Sourced, not run. Servers live in bench/servers/<name>.sh.

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# need TOOL [DEBIAN-PACKAGE]: the tool, installed from Debian's packages when it is missing and
# we are root.
need() {
  local tool=$1 package=${2:-$1}
  command -v "$tool" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing $package"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null; }
  fi
  command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (Debian package $package)"
}

# A TCP port free on 127.0.0.1 right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL [SECONDS]: until URL answers 200.
wait_http() {
  local url=$1 deadline=$((SECONDS + ${2:-60}))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# ---- a private PostgreSQL cluster ----------------------------------------------------------
# pg_start [EXTRA postgres -c OPTIONS...]: initdb's a cluster in a new temp dir (as the user
# postgres when we are root: PostgreSQL refuses to run as root) and starts it on a free port on
# 127.0.0.1. Sets PG_DIR, PG_PORT, PG_LOG. fsync is off (the cluster is thrown away; reads are
# unaffected), but commits stay synchronous: with synchronous_commit=off a VACUUM right after
# the seed cannot mark the freshly written pages all-visible (their commit is not flushed yet),
# and the planner then avoids index-only scans. pg_stop stops it and removes the dir.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=
pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_start() {
  [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL binaries in $PG_BIN (set PG_BIN)"
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/workplan-bench.XXXXXX")
  chmod 755 "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
  PG_PORT=$(free_port)
  PG_LOG=$PG_DIR/postgres.log
  local opts="-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
  local extra
  for extra in "$@"; do opts+=" -c $extra"; done
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_LOG" -w -o "$opts" start >/dev/null ||
    die "PostgreSQL did not start: $(tail -5 "$PG_LOG")"
  log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"
}
pg_stop() {
  [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ] || return 0
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $PG_DIR"; else rm -rf "$PG_DIR"; fi
  PG_DIR=
}
# pg_sql DB SQL: runs SQL in DB.
pg_sql() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$1" -c "$2"
}
# pg_value DB SQL: the single value SQL returns.
pg_value() {
  "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$1" -c "$2"
}
pg_url() { printf 'postgres://postgres@127.0.0.1:%s/%s' "$PG_PORT" "$1"; }

# ---- measuring one operation ---------------------------------------------------------------
# measure_op SERVER SIZE OPFILE GRAPHQL_URL STATEMENTS_URL: the sequential latency (measure.py)
# and, unless BENCH_PROFILE=1, wrk at each of $BENCH_CONCURRENCY; appends one JSON line to
# $RESULTS.
measure_op() {
  local server=$1 size=$2 file=$3 url=$4 statements_url=$5
  local op bodies seq c threads wrk_out line wrk_json=""
  op=$(basename "$file" .graphql)
  bodies=$WORK/$server-$size-$op.jsonl
  log "$server $size $op: $BENCH_REPS sequential repetitions"
  seq=$(python3 "$BENCH_DIR/measure.py" --url "$url" --query "$file" --bodies "$bodies" \
    --reps "$BENCH_REPS" --warmup 5 ${statements_url:+--statements-url "$statements_url"}) ||
    die "$op failed (see the message above)"
  if [ "${BENCH_PROFILE:-0}" != 1 ]; then
    for c in $BENCH_CONCURRENCY; do
      threads=$((c < $(nproc) ? c : $(nproc)))
      log "$server $size $op: wrk -t$threads -c$c -d$BENCH_DURATION"
      wrk_out=$(wrk -t"$threads" -c"$c" -d"$BENCH_DURATION" --timeout 30s -s "$BENCH_DIR/wrk/graphql.lua" \
        "$url" -- "$bodies")
      line=$(printf '%s\n' "$wrk_out" | sed -n 's/^WRK_RESULT //p')
      [ -n "$line" ] || die "wrk printed no result: $wrk_out"
      wrk_json+="${wrk_json:+,}\"$c\":$line"
    done
  fi
  printf '{"server":"%s","size":%s,"op":"%s","seq":%s,"wrk":{%s}}\n' \
    "$server" "$size" "$op" "$seq" "$wrk_json" >>"$RESULTS"
}
