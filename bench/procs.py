#!/usr/bin/env python3
"""CPU time and memory of the server under test and of the private PostgreSQL cluster, from /proc.

  procs.py snapshot --server PID --postmaster PID
      prints {"server_cpu_s", "server_rss_kb", "pg_cpu_s", "pg_backends"}: the server's user +
      system CPU seconds and resident set; the cluster's CPU seconds: the postmaster's own and
      those of its children that have exited (cutime + cstime, which the postmaster reaps),
      plus every live child's (backends, the checkpointer, autovacuum, ...). Differences of
      two snapshots are the CPU a run cost, backends that came and went included.
  procs.py watch --server PID --out FILE [--interval 0.1]
      samples the server's resident set until SIGTERM or SIGINT, keeping
      {"peak_rss_kb", "samples"} in FILE (rewritten as the peak grows, so that it holds the
      peak so far however early it is stopped): the peak during a load run.

Standard library only; Linux only.
"""

import argparse
import json
import os
import signal
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (field 3 onwards), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_ticks(pid, children=False):
    """utime + stime (+ cutime + cstime) of PID in clock ticks; 0 if it is gone."""
    fields = stat_fields(pid)
    if fields is None:
        return 0
    # Fields 14-17 (1-based) are utime, stime, cutime, cstime; `fields` starts at field 3.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_of(ppid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = stat_fields(name)
            if fields is not None and fields[1] == str(ppid):
                out.append(int(name))
    return out


def snapshot(server, postmaster):
    backends = children_of(postmaster)
    pg = cpu_ticks(postmaster, children=True) + sum(cpu_ticks(p) for p in backends)
    return {
        "server_cpu_s": round(cpu_ticks(server) / TICKS, 2),
        "server_rss_kb": rss_kb(server),
        "pg_cpu_s": round(pg / TICKS, 2),
        "pg_backends": len(backends),
    }


def watch(server, interval, path):
    peak, samples, running = 0, 0, True

    def stop(*_):
        nonlocal running
        running = False

    def save():
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"peak_rss_kb": peak, "samples": samples}, f)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while running:
        rss = rss_kb(server)
        samples += 1
        if rss > peak:
            peak = rss
            save()
        time.sleep(interval)
    save()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["snapshot", "watch"])
    ap.add_argument("--server", type=int, required=True)
    ap.add_argument("--postmaster", type=int)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--out", help="watch: where to keep the peak")
    args = ap.parse_args()
    if args.mode == "snapshot":
        if args.postmaster is None:
            sys.exit("snapshot needs --postmaster")
        print(json.dumps(snapshot(args.server, args.postmaster)))
    else:
        if args.out is None:
            sys.exit("watch needs --out")
        watch(args.server, args.interval, args.out)


if __name__ == "__main__":
    main()
