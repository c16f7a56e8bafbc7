#!/usr/bin/env python3
"""Turns the JSON lines bench/run.sh collected into bench/results/<date>.md. Standard library only."""

import argparse
import json
import os
import platform
import subprocess

TARGET_MS = 50


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem} memory, Linux {platform.release()}"


def fmt(ms):
    return "—" if ms is None else f"{ms:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", required=True)
    ap.add_argument("--loads", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--duration", required=True)
    ap.add_argument("--reps", required=True)
    ap.add_argument("--load-before", default="?")
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--postgres", default="")
    ap.add_argument("--rustc", default="")
    args = ap.parse_args()

    results = lines(args.results)
    loads = {l["size"]: l for l in lines(args.loads)}
    concurrencies = sorted({int(c) for r in results for c in r["wrk"]})
    date = subprocess.run(["date", "+%F %H:%M %Z"], capture_output=True, text=True).stdout.strip()
    end_load = open("/proc/loadavg", encoding="utf-8").read().split()[:3]

    out = [
        f"# Benchmark: supervision reads ({date})",
        "",
        f"- Commit `{args.commit}`, release build; {args.rustc}; {args.postgres} (private cluster, "
        "fsync off, otherwise defaults; VACUUM ANALYZE after the seed), on the same machine as the server and "
        "the load generator.",
        f"- Machine: {machine()}. Load average before: {args.load_before}; after: {' '.join(end_load)} "
        "(other work on the machine shows here).",
        f"- Sequential: {args.reps} measured repetitions after 5 warm-up ones, one keep-alive "
        "connection (bench/measure.py); a paged operation's repetition is every page in order. "
        f"wrk: {args.duration} per concurrency, 2 threads at most (bench/wrk/graphql.lua), cycling "
        "through the pages. Anonymous requests; rate limiting off; server logs at `warn`.",
        "- SQL: statements per request from the server's `workplan_db_statements_total`, and the mean "
        "time the server spent executing one request from its `workplan_graphql_request_duration_seconds` "
        "for the operation's name, both read before and after the sequential repetitions.",
        "",
    ]
    for size in sorted({r["size"] for r in results}):
        load = loads.get(size, {})
        out.append(f"## {size:,} demo reports".replace(",", " "))
        out.append("")
        if load:
            out.append(
                f"{load['reports']} reports in the database ({load['db_bytes'] / 1024 / 1024:.0f} MiB); "
                f"`seed --demo --reports {size}` took {load['seed_ms'] / 1000:.1f} s."
            )
            out.append("")
        head = [
            "operation",
            "requests",
            "sequential p50 / p99 (ms)",
            "per request p50 / p99 (ms)",
            "in the server, mean (ms)",
            "SQL / request",
        ]
        for c in concurrencies:
            head.append(f"c={c}: p50 / p99 (ms), req/s")
        head.append(f"< {TARGET_MS} ms")
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for r in sorted((r for r in results if r["size"] == size), key=lambda r: (r["server"], r["op"])):
            s = r["seq"]
            statements = s["statements_per_request"]
            row = [
                f"{r['op']} ({r['server']})",
                str(s["pages"]),
                f"{fmt(s['total_p50_ms'])} / {fmt(s['total_p99_ms'])}",
                f"{fmt(s['request_p50_ms'])} / {fmt(s['request_p99_ms'])}",
                fmt(s.get("server_mean_ms")),
                "—" if statements is None else f"{statements:g}",
            ]
            for c in concurrencies:
                w = r["wrk"].get(str(c))
                if w is None:
                    row.append("—")
                else:
                    errors = w["errors"] + w["socket_errors"]
                    note = f", {errors} errors" if errors else ""
                    row.append(f"{fmt(w['p50_ms'])} / {fmt(w['p99_ms'])}, {w['rps']:.0f}{note}")
            row.append("yes" if s["total_p50_ms"] < TARGET_MS else "**no**")
            out.append("| " + " | ".join(row) + " |")
        out.append("")
        out.append(
            "The sequential column is the whole operation (for M1 all its pages); the per-request and "
            "wrk columns are one request (for M1 one page of 500)."
        )
        out.append("")
        for r in sorted((r for r in results if r["size"] == size), key=lambda r: r["op"]):
            out.append(f"- {r['op']}: {r['seq']['title']}; {r['seq']['response_bytes']:,} response bytes in all.")
        out.append("")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
