#!/usr/bin/env python3
"""Turns what `bench/run.sh --suite peers` collected into bench/results/<date>-peers.md.

The operations Q1–Q4 against workplan and PostGraphile v4 and v5 over the same database: per
size, the throughput at each concurrency with its ratio to the best PostGraphile, latency,
the server's CPU and memory, PostgreSQL's CPU, SQL statements per request, response bytes and
whether the answers agree; then the goals of issue 10, each met or not. `--check-errors FILE`
only checks a results file: exit status 1 when any request failed (the smoke run in CI).
Standard library only.
"""

import argparse
import datetime
import json
import os
import sys

from report import fmt, lines, machine

PEERS = ("postgraphile4", "postgraphile5")
NAMES = {"workplan": "workplan", "postgraphile4": "PostGraphile v4", "postgraphile5": "PostGraphile v5"}
# Issue 10's goals: workplan's req/s over the best PostGraphile's, at c=16 and c=64.
GOAL_RATIO = {"Q1": 5, "Q2": 4, "Q3": 3, "Q4": 2}
GOAL_RSS_MB = 60
GOAL_Q1_STATEMENTS = 2
GOAL_SCALE_DRIFT = 0.10
VOLATILE = {"id", "createdAt"}


def name(server):
    return NAMES.get(server, server)


def key(op):
    return op.split("-", 1)[0]


def failed(w):
    return w["errors"] + w["socket_errors"]


def mb(kb):
    return "—" if kb is None else f"{kb / 1024:.0f}"


def good_rps(w):
    """Answers without errors per second (a failed answer, e.g. a timeout, does not count)."""
    return max(w["requests"] - w["errors"], 0) / w["seconds"] if w["seconds"] else 0.0


def rps(w):
    note = f" ({failed(w)} failed)" if failed(w) else ""
    return f"{good_rps(w):,.0f}{note}"


# ---- do the answers agree? ----------------------------------------------------------------
def normalize(value):
    """One server's answer in a form every server's shares: a connection's `nodes` unwrapped, a
    list of one as its item (and of none as null), PostGraphile's `a` / `p` reporter aliases as
    workplan's `reporter`, timestamps in one format, and no IDs or creation times (which differ
    by server for the same write)."""
    if isinstance(value, dict):
        if set(value) == {"nodes"}:
            return normalize(value["nodes"])
        out = {}
        if "a" in value and "p" in value and "reporter" not in value:
            out["reporter"] = normalize(value["a"] or value["p"])
        for k, v in value.items():
            if k in VOLATILE or (k in ("a", "p") and "reporter" in out):
                continue
            out[k] = normalize(v)
        return out
    if isinstance(value, list):
        items = [normalize(v) for v in value]
        return None if not items else items[0] if len(items) == 1 else items
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T":
        try:
            return datetime.datetime.fromisoformat(value).astimezone(datetime.timezone.utc).isoformat()
        except ValueError:
            return value
    return value


def answers(responses_dir, server, size, op):
    path = os.path.join(responses_dir, f"{server}-{size}-{op}.jsonl")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return [normalize(json.loads(line)) for line in f if line.strip()]


def agreement(responses_dir, server, size, op):
    """'n of m' answers equal to workplan's, or '—'."""
    mine, theirs = answers(responses_dir, server, size, op), answers(responses_dir, "workplan", size, op)
    if mine is None or theirs is None:
        return "—"
    same = sum(1 for a, b in zip(mine, theirs) if a == b)
    total = max(len(mine), len(theirs))
    return "all" if same == total else f"**{same} of {total}**"


# ---- the report -------------------------------------------------------------------------------
def pinned_versions(bench_dir):
    out = []
    for server, package in (("postgraphile4", "postgraphile"), ("postgraphile5", "postgraphile"), ("node", "node")):
        path = os.path.join(bench_dir, "servers", server, "package-lock.json")
        try:
            lock = json.load(open(path, encoding="utf-8"))
            out.append(f"{server}: {package} {lock['packages']['node_modules/' + package]['version']}")
        except (OSError, KeyError, ValueError):
            pass
    return "; ".join(out)


def best_peer(by_server, op, c, field="rps", best=max):
    """(value, server) of the best PostGraphile for `op` at concurrency `c`, or (None, None)."""
    value = (lambda w: good_rps(w)) if field == "rps" else (lambda w: w[field])
    found = [
        (value(r["wrk"][c]), s)
        for s, rs in by_server.items()
        if s in PEERS
        for r in rs
        if r["op"] == op and c in r["wrk"]
    ]
    return best(found) if found else (None, None)


def summary_table(out, results, concurrency):
    """The issue's table: req/s at each concurrency, per operation and server, and the ratio."""
    servers = [s for s in ("postgraphile4", "postgraphile5", "workplan") if any(r["server"] == s for r in results)]
    others = sorted({r["server"] for r in results} - set(servers))
    servers += others
    by_server = {s: [r for r in results if r["server"] == s] for s in servers}
    head = ["operation", "bytes / request"] + [name(s) for s in servers]
    has_peers = any(s in PEERS for s in servers) and "workplan" in servers
    if has_peers:
        head.append("workplan / best PostGraphile")
    out.append("req/s (answers without errors) at " + " / ".join(f"c={c}" for c in concurrency) + ":")
    out.append("")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for op in sorted({r["op"] for r in results}):
        row = [op]
        sizes = [f"{r['seq']['bytes_per_request']:,}" for s in servers for r in by_server[s] if r["op"] == op]
        row.append(" / ".join(sizes))
        for s in servers:
            r = next((r for r in by_server[s] if r["op"] == op), None)
            row.append("—" if r is None else " / ".join(rps(r["wrk"][c]) if c in r["wrk"] else "—" for c in concurrency))
        if has_peers:
            ratios = []
            mine = next((r for r in by_server["workplan"] if r["op"] == op), None)
            for c in concurrency:
                peer, _ = best_peer(by_server, op, c)
                if mine is None or peer is None or c not in mine["wrk"]:
                    ratios.append("—")
                else:
                    ratios.append(f"{good_rps(mine['wrk'][c]) / peer:.2f}×" if peer else "—")
            row.append(" / ".join(ratios))
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    return by_server


def detail_table(out, results, responses_dir, size):
    head = [
        "operation",
        "server",
        "bytes / request",
        "answers as workplan's",
        "sequential p50 / p99 (ms)",
        "SQL / request, sequential / under load",
    ]
    concurrency = sorted({c for r in results for c in r["wrk"]}, key=int)
    for c in concurrency:
        head.append(f"c={c}: req/s, p50 / p99 (ms)")
    head += ["server CPU ms / request", "PostgreSQL CPU ms / request", "server RSS peak / after (MB)"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    order = {"workplan": 0, "postgraphile4": 1, "postgraphile5": 2}
    for r in sorted(results, key=lambda r: (r["op"], order.get(r["server"], 9), r["server"])):
        s = r["seq"]
        own = s.get("statements_per_request")
        sql = f"{s['pg_statements_per_request']:g}"
        loaded = r["wrk"].get(concurrency[-1]) if concurrency else None
        if loaded is not None:
            sql += f" / {loaded['sql_per_request']:g}"
        if own is not None:
            sql += f" (own count {own:g})"
        row = [
            r["op"],
            name(r["server"]),
            f"{s['bytes_per_request']:,}",
            "—" if r["server"] == "workplan" else agreement(responses_dir, r["server"], size, r["op"]),
            f"{fmt(s['request_p50_ms'])} / {fmt(s['request_p99_ms'])}"
            + (f" ({s['reps']} reps, {s['errors']} failed)" if s.get("errors") else ""),
            sql,
        ]
        for c in concurrency:
            w = r["wrk"].get(c)
            row.append("—" if w is None else f"{rps(w)}, {fmt(w['p50_ms'])} / {fmt(w['p99_ms'])}")
        # CPU and memory at the highest concurrency.
        w = r["wrk"].get(concurrency[-1]) if concurrency else None
        if w is None:
            row += ["—", "—", "—"]
        else:
            peak = max((x.get("peak_rss_kb") or 0) for x in r["wrk"].values())
            row += [
                f"{w['server_cpu_ms_per_request']:.2f}",
                f"{w['pg_cpu_ms_per_request']:.2f}",
                f"{mb(peak)} / {mb(w['rss_after_kb'])}",
            ]
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    failures = []
    for r in sorted(results, key=lambda r: (r["op"], order.get(r["server"], 9))):
        if r["seq"].get("errors"):
            failures.append(
                f"- {name(r['server'])} {r['op']}, sequential: {r['seq']['errors']} of {r['seq']['requests']} "
                f"failed; the first: `{r['seq']['first_error']}`"
            )
        for c, w in sorted(r["wrk"].items(), key=lambda cw: int(cw[0])):
            if failed(w):
                first = f"; the first: `{w['first_error']}`" if w.get("first_error") else ""
                failures.append(
                    f"- {name(r['server'])} {r['op']}, c={c}: {w['errors']} failed answers and "
                    f"{w['socket_errors']} socket errors or timeouts in {w['sent']} requests sent{first}"
                )
    if failures:
        out.append("Failed requests:")
        out.append("")
        out += failures
        out.append("")
    evicted = sum(w.get("sql_evicted", 0) for r in results for w in r["wrk"].values())
    if evicted:
        out.append(f"pg_stat_statements evicted {evicted} entries during the load runs: their SQL counts are short.")
        out.append("")


def memory_table(out, infos, results, size):
    rows = [i for i in infos if i["size"] == size]
    if not rows:
        return
    out.append("| server | RSS idle, after start (MB) | peak under load (MB) | after its last run (MB) | CPU s in all |")
    out.append("|---|---|---|---|---|")
    for i in rows:
        peak = max(
            ((w.get("peak_rss_kb") or 0) for r in results if r["server"] == i["server"] for w in r["wrk"].values()),
            default=0,
        )
        cpu = i["end"]["server_cpu_s"] - i["idle"]["server_cpu_s"]
        out.append(
            f"| {name(i['server'])} | {mb(i['idle']['server_rss_kb'])} | {mb(peak) if peak else '—'} | "
            f"{mb(i['end']['server_rss_kb'])} | {cpu:.1f} |"
        )
    out.append("")


def goals(out, results, infos, concurrency):
    """Issue 10's goals, each with what this run measured."""
    sizes = sorted({r["size"] for r in results})
    have_peers = any(r["server"] in PEERS for r in results)
    rows = []
    for size in sizes:
        rs = [r for r in results if r["size"] == size]
        by_server = {}
        for r in rs:
            by_server.setdefault(r["server"], []).append(r)
        mine = {key(r["op"]): r for r in by_server.get("workplan", [])}
        if have_peers:
            for op, want in GOAL_RATIO.items():
                for c in ("16", "64"):
                    r = mine.get(op)
                    full = r["op"] if r else op
                    peer, who = best_peer(by_server, full, c)
                    if r is None or peer is None or c not in r["wrk"]:
                        continue
                    if not peer:
                        continue
                    ratio = good_rps(r["wrk"][c]) / peer
                    rows.append((size, f"{op} ≥ {want}× the best PostGraphile at c={c}", f"{ratio:.2f}× ({name(who)})", ratio >= want))
            for op, r in sorted(mine.items()):
                if "64" in r["wrk"]:
                    peer, who = best_peer(by_server, r["op"], "64", "p99_ms", min)
                    if peer is not None:
                        p99 = r["wrk"]["64"]["p99_ms"]
                        rows.append((size, f"{op} p99 at c=64 below the peer's", f"{p99:.1f} ms against {peer:.1f} ({name(who)})", p99 < peer))
            r = mine.get("Q3")
            if r and "1" in r["wrk"]:
                peer, who = best_peer(by_server, r["op"], "1", "p50_ms", min)
                if peer is not None:
                    p50 = r["wrk"]["1"]["p50_ms"]
                    rows.append((size, "Q3 at c=1 no slower than PostGraphile", f"p50 {p50:.2f} ms against {peer:.2f} ({name(who)})", p50 <= peer))
        r = mine.get("Q1")
        if r:
            sql = r["seq"]["pg_statements_per_request"]
            rows.append((size, f"Q1 ≤ {GOAL_Q1_STATEMENTS} SQL statements per request", f"{sql:g}", sql <= GOAL_Q1_STATEMENTS))
        peak = max((w.get("peak_rss_kb") or 0) for r in by_server.get("workplan", []) for w in r["wrk"].values()) if mine else 0
        if peak:
            rows.append((size, f"RSS under load ≤ {GOAL_RSS_MB} MB", f"{peak / 1024:.0f} MB", peak / 1024 <= GOAL_RSS_MB))
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        a = {key(r["op"]): r for r in results if r["server"] == "workplan" and r["size"] == small}
        b = {key(r["op"]): r for r in results if r["server"] == "workplan" and r["size"] == large}
        for op in sorted(set(a) & set(b)):
            for c in concurrency:
                if c in a[op]["wrk"] and c in b[op]["wrk"] and good_rps(a[op]["wrk"][c]):
                    drift = good_rps(b[op]["wrk"][c]) / good_rps(a[op]["wrk"][c]) - 1
                    rows.append((f"{large} vs {small}", f"{op} at c={c} within {GOAL_SCALE_DRIFT:.0%} of the smaller scale", f"{drift:+.0%}", abs(drift) <= GOAL_SCALE_DRIFT))
            sa, sb = a[op]["seq"]["pg_statements_per_request"], b[op]["seq"]["pg_statements_per_request"]
            rows.append((f"{large} vs {small}", f"{op} statements per request constant in the data's size", f"{sa:g} → {sb:g}", abs(sa - sb) < 0.5))
    if not rows:
        return
    out.append("## The goals of issue 10")
    out.append("")
    out.append("| reports | goal | measured | met |")
    out.append("|---|---|---|---|")
    for size, goal, measured, met in rows:
        label = f"{size:,}".replace(",", " ") if isinstance(size, int) else size
        out.append(f"| {label} | {goal} | {measured} | {'yes' if met else '**no**'} |")
    out.append("")
    met = sum(1 for row in rows if row[3])
    out.append(f"{met} of {len(rows)} met.")
    out.append("")


def check_errors(path):
    results = lines(path)
    bad = [
        f"{r['server']} {r['size']} {r['op']} c={c}: {failed(w)} of {w['sent']} failed, {w['requests']} completed"
        for r in results
        for c, w in r["wrk"].items()
        if failed(w) or w["requests"] == 0
    ]
    bad += [
        f"{r['server']} {r['size']} {r['op']} sequential: {r['seq']['errors']} failed: {r['seq']['first_error']}"
        for r in results
        if r["seq"].get("errors")
    ]
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check-errors", help="only check this results file for failed requests")
    ap.add_argument("--results")
    ap.add_argument("--loads")
    ap.add_argument("--servers-info")
    ap.add_argument("--responses")
    ap.add_argument("--out")
    ap.add_argument("--duration")
    ap.add_argument("--reps")
    ap.add_argument("--warmup", default="5")
    ap.add_argument("--concurrency", default="16 64")
    ap.add_argument("--load-before", default="?")
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--postgres", default="")
    ap.add_argument("--rustc", default="")
    ap.add_argument("--binary", default="release")
    ap.add_argument("--smoke", default="0")
    args = ap.parse_args()
    if args.check_errors:
        sys.exit(check_errors(args.check_errors))

    results = lines(args.results)
    loads = {l["size"]: l for l in lines(args.loads)}
    infos = lines(args.servers_info) if args.servers_info else []
    concurrency = args.concurrency.split()
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    end_load = open("/proc/loadavg", encoding="utf-8").read().split()[:3]
    servers = sorted({r["server"] for r in results}, key=lambda s: ("workplan", *PEERS).index(s) if s in ("workplan", *PEERS) else 9)
    title = "smoke run" if args.smoke == "1" else "workplan and PostGraphile"
    out = [
        f"# Benchmark: {title}, Q1–Q4 ({date})",
        "",
        f"- Commit `{args.commit}`; workplan {args.binary} build; {args.rustc}; {args.postgres} (private "
        "cluster, fsync off, pg_stat_statements; VACUUM ANALYZE after the seed); "
        f"{pinned_versions(bench_dir)}. Servers: {', '.join(name(s) for s in servers)}, each with a pool of "
        "10 connections, one after the other over the same database; the server, PostgreSQL and wrk share "
        "the machine.",
        f"- Machine: {machine()}. Load average before: {args.load_before}; after: {' '.join(end_load)} "
        "(other work on the machine shows here).",
        f"- wrk: {args.duration} at each concurrency, 2 threads at most (bench/wrk/graphql.lua); a request "
        "fails when its status is not 200 or its body has `errors`. Sequential: "
        f"{args.reps} repetitions after {args.warmup} warm-up ones over one keep-alive connection (bench/measure.py). "
        "Reads are anonymous (workplan shows them accepted reports; PostGraphile's queries ask for "
        "`state: ACCEPTED`); Q4 sends an agency reporter's token to workplan, nothing to PostGraphile. "
        "workplan's rate limiting is off and it logs at `warn`.",
        "- SQL / request: top-level statements in pg_stat_statements of the benchmark database (BEGIN and "
        "COMMIT included) over the sequential run's requests and over the highest-concurrency run's; for "
        "workplan, its own "
        "`workplan_db_statements_total` in brackets. CPU: user + system seconds from /proc over the "
        "highest-concurrency run (PostgreSQL: the postmaster and every backend). RSS: the server's "
        "peak while wrk ran (any concurrency) and a second after the last run.",
        "- Answers as workplan's: the answers of the checking walk (Q2 one per agency, Q3 one per task, "
        "Q4 the first submission) that equal workplan's once the shape is set aside (a connection's "
        "`nodes`, a list of one, the reporter's two aliases, the timestamps' format, IDs and creation "
        "times). PostGraphile's `state: ACCEPTED` leaves out reports reopened for correction, which "
        "workplan still shows anonymous callers as their accepted version: where one of those is among "
        "the newest, the answers differ by that report.",
        "",
    ]
    for size in sorted({r["size"] for r in results}):
        rs = [r for r in results if r["size"] == size]
        load = loads.get(size, {})
        out.append(f"## {size:,} demo reports".replace(",", " "))
        out.append("")
        if load:
            out.append(
                f"{load['reports']} reports in the database ({load['db_bytes'] / 1024 / 1024:.0f} MiB); "
                f"`seed --demo --reports {size}` took {load['seed_ms'] / 1000:.1f} s."
            )
            out.append("")
        summary_table(out, rs, concurrency)
        detail_table(out, rs, args.responses, size)
        memory_table(out, infos, rs, size)
        titles = {}
        for r in rs:
            titles.setdefault(r["op"], r["seq"]["title"])
        for op, t in sorted(titles.items()):
            out.append(f"- {op}: {t}.")
        out.append("")
    goals(out, results, infos, concurrency)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
