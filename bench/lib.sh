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

# wait_graphql URL [SECONDS]: until a GraphQL endpoint answers `{ __typename }` with 200.
wait_graphql() {
  local url=$1 deadline=$((SECONDS + ${2:-60}))
  until curl -fsS -o /dev/null -H 'Content-Type: application/json' --data '{"query":"{ __typename }"}' "$url" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
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
# and the planner then avoids index-only scans. pg_stat_statements is loaded (its view lives in
# the database `postgres`, so that no server under test sees it in its own schema): pg_calls
# counts the statements each benchmark database ran, whatever the server. pg_stop stops it and
# removes the dir.
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
  opts+=" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=20000"
  local extra
  for extra in "$@"; do opts+=" -c $extra"; done
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_LOG" -w -o "$opts" start >/dev/null ||
    die "PostgreSQL did not start: $(tail -5 "$PG_LOG")"
  pg_sql postgres "CREATE EXTENSION pg_stat_statements"
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
# The postmaster's process id (bench/procs.py sums its children's CPU).
pg_postmaster() { head -1 "$PG_DIR/data/postmaster.pid"; }
# pg_calls DB: how many statements DB has run so far (pg_stat_statements: top-level statements,
# utility ones such as BEGIN and COMMIT included), and the number of entries the extension has
# evicted so far (a count is short if that grows: raise pg_stat_statements.max).
pg_calls() {
  pg_value postgres "SELECT coalesce(sum(calls), 0) || ' ' || (SELECT dealloc FROM pg_stat_statements_info)
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$1'"
}

# pg_drain DB: waits until DB runs no statement and its statement count stands still for half a
# second (60 s at most): what a server still does after its client is gone.
pg_drain() {
  local before now active
  before=$(pg_calls "$1")
  for _ in $(seq 1 120); do
    sleep 0.5
    now=$(pg_calls "$1")
    active=$(pg_value postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = '$1' AND state <> 'idle'")
    [ "$active" != 0 ] || [ "${now%% *}" != "${before%% *}" ] || return 0
    before=$now
  done
  log "$1 was still busy after 60 s"
}

# ---- undoing a write benchmark ----------------------------------------------------------------
# db_restore_point DB: writes $WORK/DB-restore.sql, which deletes every row added to DB after
# now: for each table of the schema public with an `id` column, the rows with a larger id than
# its largest now (foreign keys are not checked while it runs: session_replication_role). Rows
# changed in place are not put back: the write benchmark only adds reports (and their history
# and change-feed rows). db_restore DB runs it and vacuums, so every server's write runs, and
# the reads after them, start from the same data.
db_restore_point() {
  local table max
  for table in $(pg_value "$1" "SELECT c.table_name FROM information_schema.columns c
      JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = 'public' AND c.column_name = 'id' AND t.table_type = 'BASE TABLE'
      ORDER BY 1"); do
    max=$(pg_value "$1" "SELECT coalesce(max(id), 0) FROM \"$table\"")
    printf 'DELETE FROM "%s" WHERE id > %s;\n' "$table" "$max"
  done >"$WORK/$1-restore.sql"
}
db_restore() {
  local out
  out=$("$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$1" \
    -c "SET session_replication_role = replica" -f "$WORK/$1-restore.sql" 2>&1) || die "restoring $1 failed: $out"
  pg_sql "$1" "VACUUM ANALYZE"
}

# ---- Node.js servers ----------------------------------------------------------------------------
# node_install NAME: the npm packages pinned in bench/servers/NAME/ (package.json and
# package-lock.json, installed with `npm ci`) in $BENCH_NODE_DIR/NAME (default
# ~/.cache/workplan-bench-node/NAME), never in the repository; again only when the pinned files
# change. Prints the directory. Needs npm (Debian's package npm when missing, as root).
BENCH_NODE_DIR=${BENCH_NODE_DIR:-$HOME/.cache/workplan-bench-node}
node_install() {
  local name=$1 src=$BENCH_DIR/servers/$1 dir=$BENCH_NODE_DIR/$1 stamp
  stamp=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$stamp" ]; then
    need npm npm
    log "installing the npm packages of bench/servers/$name into $dir"
    mkdir -p "$dir"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in $dir"
    echo "$stamp" >"$dir/.installed"
  fi
  echo "$dir"
}

# ---- measuring one operation ---------------------------------------------------------------
# load_run SERVER FILE URL C DB: wrk at C connections for $BENCH_DURATION on the operation whose
# bodies measure.py wrote, with the server's and PostgreSQL's CPU seconds (bench/procs.py
# snapshots before and after), the server's peak resident set while it ran and its resident set
# $BENCH_SETTLE seconds later (1), and the SQL statements per request (pg_stat_statements of
# DB); CPU and statements are per request sent. Undoes a write's reports afterwards. Prints one
# JSON object.
load_run() {
  local server=$1 file=$2 url=$3 c=$4 db=$5 op pid postmaster threads before after calls0 calls1
  local watcher wrk_out line peak rest write=0 args
  op=$(basename "$file" .graphql)
  pid=$("${server}_pid")
  postmaster=$(pg_postmaster)
  threads=$((c < $(nproc) ? c : $(nproc)))
  args=("$WORK/$server-$db-$op.bodies")
  if grep -q '^# variables:' "$file"; then
    write=1
    args+=("$WORK/$db-slots.txt" "$threads")
  fi
  log "$server $db $op: wrk -t$threads -c$c -d$BENCH_DURATION"
  before=$(python3 "$BENCH_DIR/procs.py" snapshot --server "$pid" --postmaster "$postmaster")
  calls0=$(pg_calls "$db")
  # The peak so far, before the watcher's first sample.
  printf '{"peak_rss_kb":%s}' "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["server_rss_kb"])' "$before")" >"$WORK/watch.json"
  python3 "$BENCH_DIR/procs.py" watch --server "$pid" --out "$WORK/watch.json" &
  watcher=$!
  wrk_out=$(wrk -t"$threads" -c"$c" -d"$BENCH_DURATION" --timeout 30s -s "$BENCH_DIR/wrk/graphql.lua" \
    "$url" -- "${args[@]}" 2>&1) || true
  # Requests still running when wrk stops (slow operations at high concurrency) go on in the
  # server: wait until the database is idle (60 s at most), so that their statements and CPU
  # count with this run (per request sent, not per request completed) and the next run starts
  # on an idle server.
  pg_drain "$db"
  calls1=$(pg_calls "$db")
  kill -TERM "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
  after=$(python3 "$BENCH_DIR/procs.py" snapshot --server "$pid" --postmaster "$postmaster")
  sleep "${BENCH_SETTLE:-1}"
  rest=$(python3 "$BENCH_DIR/procs.py" snapshot --server "$pid" --postmaster "$postmaster")
  line=$(printf '%s\n' "$wrk_out" | sed -n 's/^WRK_RESULT //p')
  [ -n "$line" ] || die "wrk printed no result: $wrk_out"
  peak=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_kb"])' "$WORK/watch.json" 2>/dev/null || echo null)
  [ "$write" = 0 ] || db_restore "$db"
  python3 - "$line" "$before" "$after" "$rest" "$calls0" "$calls1" "$peak" <<'PY'
import json, sys
wrk, before, after, rest = (json.loads(a) for a in sys.argv[1:5])
calls0, dealloc0 = (int(x) for x in sys.argv[5].split())
calls1, dealloc1 = (int(x) for x in sys.argv[6].split())
peak = None if sys.argv[7] == "null" else int(sys.argv[7])
requests = max(wrk["sent"], 1)
wrk.update(
    server_cpu_s=round(after["server_cpu_s"] - before["server_cpu_s"], 2),
    pg_cpu_s=round(after["pg_cpu_s"] - before["pg_cpu_s"], 2),
    server_cpu_ms_per_request=round((after["server_cpu_s"] - before["server_cpu_s"]) * 1000 / requests, 3),
    pg_cpu_ms_per_request=round((after["pg_cpu_s"] - before["pg_cpu_s"]) * 1000 / requests, 3),
    peak_rss_kb=peak,
    rss_before_kb=before["server_rss_kb"],
    rss_after_kb=rest["server_rss_kb"],
    sql_per_request=round((calls1 - calls0) / requests, 2),
    sql_evicted=dealloc1 - dealloc0,
)
print(json.dumps(wrk))
PY
}

# measure_op SERVER SIZE OPFILE GRAPHQL_URL STATEMENTS_URL DB: the sequential latency
# (measure.py, with the SQL statements per request from pg_stat_statements) and, unless
# BENCH_PROFILE=1, load_run at each of $BENCH_CONCURRENCY (and at 1 for the operations in
# $BENCH_C1_OPS); appends one JSON line to $RESULTS. An operation with `# vars: NAME` gets
# $WORK/DB-vars-NAME.jsonl, a write (`# variables:`) the slots $WORK/DB-slots.txt, and its
# reports are deleted after each run (db_restore).
measure_op() {
  local server=$1 size=$2 file=$3 url=$4 statements_url=$5 db=$6
  local op bodies seq c concurrency line wrk_json="" calls0 calls1 extra=() vars write=0
  op=$(basename "$file" .graphql)
  bodies=$WORK/$server-$db-$op.bodies
  vars=$(sed -n 's/^# vars: *//p' "$file")
  [ -z "$vars" ] || extra+=(--vars "$WORK/$db-vars-$vars.jsonl")
  if grep -q '^# variables:' "$file"; then
    write=1
    extra+=(--slots "$WORK/$db-slots.txt")
  fi
  mkdir -p "$WORK/responses"
  log "$server $size $op: $BENCH_REPS sequential repetitions"
  pg_drain "$db"
  calls0=$(pg_calls "$db")
  seq=$(python3 "$BENCH_DIR/measure.py" --url "$url" --query "$file" --bodies "$bodies" \
    --reps "$BENCH_REPS" --warmup "${BENCH_WARMUP:-5}" --responses "$WORK/responses/$server-$size-$op.jsonl" \
    ${statements_url:+--statements-url "$statements_url"} "${extra[@]}") ||
    die "$op failed on $server (see the message above)"
  pg_drain "$db"
  calls1=$(pg_calls "$db")
  [ "$write" = 0 ] || db_restore "$db"
  seq=$(python3 - "$seq" "$calls0" "$calls1" <<'PY'
import json, sys
seq = json.loads(sys.argv[1])
calls0, calls1 = int(sys.argv[2].split()[0]), int(sys.argv[3].split()[0])
seq["pg_statements_per_request"] = round((calls1 - calls0) / seq["requests"], 2)
print(json.dumps(seq))
PY
)
  if [ "${BENCH_PROFILE:-0}" != 1 ]; then
    concurrency=$BENCH_CONCURRENCY
    if grep -qw -- "${op%%-*}" <<<"${BENCH_C1_OPS:-}" && ! grep -qw 1 <<<"$concurrency"; then
      concurrency="1 $concurrency"
    fi
    for c in $concurrency; do
      line=$(load_run "$server" "$file" "$url" "$c" "$db")
      wrk_json+="${wrk_json:+,}\"$c\":$line"
    done
  fi
  printf '{"server":"%s","size":%s,"op":"%s","seq":%s,"wrk":{%s}}\n' \
    "$server" "$size" "$op" "$seq" "$wrk_json" >>"$RESULTS"
}
