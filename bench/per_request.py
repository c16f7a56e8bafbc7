#!/usr/bin/env python3
"""What one request costs a workplan binary: instructions (callgrind), CPU time and memory.

    python3 bench/per_request.py BINARY [--requests 200] [--reports 1000] [--load 3000]
                                 [--concurrency 16] [--no-callgrind | --no-native] [-- SERVE_FLAGS...]

On a fresh SQLite database (`seed --demo --reports N`), rate limiting off, with the dashboard query
(`{ tasks(first: 106) { nodes { number text responsibilities { agency { name } } } } }`):

1. callgrind: the server runs under `valgrind --tool=callgrind --instr-atstart=no`; after 10
   warm-up requests, instrumentation is switched on for `--requests` sequential requests over one
   keep-alive connection and dumped: instructions (Ir) per request. Counted instructions do not
   depend on what else the machine runs, so they compare builds even on a busy machine.
2. natively: the server's CPU time (utime + stime from /proc) over `--requests` sequential
   requests, three rounds after a warm-up (the median is printed); then `--load` requests from
   `--concurrency` connections, and the resident set right after (VmRSS), its peak (VmHWM) and
   VmRSS again after 5 s idle.

The server logs at level warn (BENCH_RUST_LOG to change it). Prints one JSON object. Every answer is checked (status 200, no `errors`). Slow under
callgrind (minutes); never part of CI. Standard library only (and valgrind's tools).
"""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

QUERY = "{ tasks(first: 106) { nodes { number text responsibilities { agency { name } } } } }"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port, proc, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit("the server did not start")


def run(port, n, concurrency=1):
    """Sends n dashboard requests from `concurrency` keep-alive connections; checks each."""
    body = json.dumps({"query": QUERY})
    headers = {"content-type": "application/json"}
    counts = [n // concurrency + (1 if i < n % concurrency else 0) for i in range(concurrency)]
    failures = []

    def worker(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for _ in range(k):
            conn.request("POST", "/graphql", body, headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200 or b'"errors"' in data or len(json.loads(data)["data"]["tasks"]["nodes"]) != 106:
                failures.append((response.status, data[:200]))
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in counts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        sys.exit(f"{len(failures)} bad answers, e.g. {failures[0]}")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--load", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-callgrind", action="store_true")
    parser.add_argument("--no-native", action="store_true", help="callgrind only")
    argv = sys.argv[1:]
    serve_flags = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.serve_flags = serve_flags
    binary = os.path.abspath(args.binary)
    # The rate limiter would refuse an anonymous caller this many dashboards, and under
    # callgrind (and a busy machine) a request can take longer than the default timeout.
    args.serve_flags = ["--rate-limit-capacity", "0", "--rate-limit-requests", "0", "--request-timeout-secs", "600", *args.serve_flags]
    out = {"binary": binary, "flags": args.serve_flags, "requests": args.requests}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DATABASE_URL=f"sqlite://{tmp}/bench.db?mode=rwc", RUST_LOG=os.environ.get("BENCH_RUST_LOG", "warn"))
        subprocess.run([binary, "seed", "--demo", "--reports", str(args.reports)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        if not args.no_callgrind:
            port = free_port()
            dump = os.path.join(tmp, "callgrind.out")
            proc = subprocess.Popen(
                ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={dump}",
                 binary, *args.serve_flags, "serve", "--listen", f"127.0.0.1:{port}"],
                env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_healthy(port, proc, 600)
                run(port, 10)
                subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True, cwd=tmp,
                               stdout=subprocess.DEVNULL)
                run(port, args.requests)
                subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, cwd=tmp,
                               stdout=subprocess.DEVNULL)
            finally:
                stop(proc)
            totals = 0
            for name in os.listdir(tmp):
                if name.startswith("callgrind.out"):
                    for line in open(os.path.join(tmp, name)):
                        m = re.match(r"(?:summary|totals): (\d+)", line)
                        if m:
                            totals = max(totals, int(m.group(1)))
            out["instructions_per_request"] = round(totals / args.requests)
            print(json.dumps(out), file=sys.stderr, flush=True)

        if args.no_native:
            print(json.dumps(out))
            return
        port = free_port()
        proc = subprocess.Popen([binary, *args.serve_flags, "serve", "--listen", f"127.0.0.1:{port}"], env=env,
                                cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_healthy(port, proc, 120)
            out["rss_idle_kib"] = status_kib(proc.pid, "VmRSS")
            run(port, 20)
            rounds = []
            for _ in range(3):
                before, started = cpu_seconds(proc.pid), time.time()
                run(port, args.requests)
                rounds.append(((cpu_seconds(proc.pid) - before) / args.requests, (time.time() - started) / args.requests))
            out["cpu_ms_per_request"] = round(statistics.median(r[0] for r in rounds) * 1000, 2)
            out["wall_ms_per_request"] = round(statistics.median(r[1] for r in rounds) * 1000, 2)
            run(port, args.load, args.concurrency)
            out["rss_after_load_kib"] = status_kib(proc.pid, "VmRSS")
            out["rss_peak_kib"] = status_kib(proc.pid, "VmHWM")
            time.sleep(5)
            out["rss_idle_after_load_kib"] = status_kib(proc.pid, "VmRSS")
        finally:
            stop(proc)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
