#!/usr/bin/env python3
"""Sequential latency of one GraphQL operation, and the request bodies for the load generator.

Reads an operation file (bench/queries/<server>/*.graphql) whose leading comment lines may say
  # title: what it measures
  # paginate: rootField      (the operation takes $after and is walked page by page)
then, over one keep-alive connection: walks it once to check the answers (no `errors`) and to
collect the page cursors, runs it `--warmup` times, and `--reps` times measured. One repetition
is every page in order. With `--statements-url` (the server's Prometheus text endpoint) the
statement counter and the server's own request-duration histogram for the operation's name are
read before and after the measured repetitions: SQL statements per request, and the mean time
the server spent on one (without HTTP and the client).

Writes the request bodies (one JSON document a line, one per page) to `--bodies`, for wrk, and
prints one JSON object with the figures. Standard library only.
"""

import argparse
import http.client
import json
import re
import statistics
import sys
import time
import urllib.parse


def directives(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("#"):
            break
        key, _, value = line[1:].partition(":")
        if value:
            out[key.strip()] = value.strip()
    return out


def percentile(samples, p):
    """The p-th percentile (nearest rank) of samples, in the samples' unit."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


class Client:
    def __init__(self, url, token):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parsed.hostname, parsed.port, parsed.path or "/graphql"
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def post(self, body):
        """POSTs body; returns (seconds, response bytes, decoded JSON)."""
        start = time.perf_counter()
        self.conn.request("POST", self.path, body=body, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            sys.exit(f"HTTP {response.status}: {data[:500]!r}")
        return elapsed, data, json.loads(data)


def scrape(url):
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    conn.request("GET", parsed.path)
    return conn.getresponse().read().decode()


def sample(text, name, label=None):
    """The value of the first sample of metric `name` (whose labels contain `label`, if given)."""
    for line in text.splitlines():
        if (line.startswith(name + " ") or line.startswith(name + "{")) and (label is None or label in line):
            return float(line.rsplit(" ", 1)[1])
    return None


def server_figures(url, counter, operation):
    """(statements run, seconds spent in GraphQL requests named `operation`, their count)."""
    text = scrape(url)
    statements = sample(text, counter)
    if statements is None:
        sys.exit(f"no {counter} in {url}")
    label = f'operation_name="{operation}"'
    seconds = sample(text, "workplan_graphql_request_duration_seconds_sum", label) or 0.0
    count = sample(text, "workplan_graphql_request_duration_seconds_count", label) or 0.0
    return statements, seconds, count


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="the GraphQL endpoint")
    ap.add_argument("--query", required=True, help="the operation file")
    ap.add_argument("--bodies", required=True, help="where to write the request bodies")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--token", default=None)
    ap.add_argument("--statements-url", default=None)
    ap.add_argument("--statements-counter", default="workplan_db_statements_total")
    args = ap.parse_args()

    text = open(args.query, encoding="utf-8").read()
    meta = directives(text)
    field = meta.get("paginate")
    client = Client(args.url, args.token)

    # One walk: check the answers and collect the pages.
    bodies, after, size = [], None, 0
    while True:
        variables = {"after": after} if field else {}
        body = json.dumps({"query": text, "variables": variables})
        _, data, answer = client.post(body)
        if answer.get("errors"):
            sys.exit(f"{args.query}: {json.dumps(answer['errors'])[:1000]}")
        bodies.append(body)
        size += len(data)
        if not field:
            break
        page = answer["data"][field]["pageInfo"]
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    with open(args.bodies, "w", encoding="utf-8") as out:
        out.write("\n".join(bodies) + "\n")

    for _ in range(args.warmup):
        for body in bodies:
            client.post(body)
    operation = re.search(r"^\s*(?:query|mutation)\s+(\w+)", text, re.M)
    operation = operation.group(1) if operation else "anonymous"
    figures = lambda: server_figures(args.statements_url, args.statements_counter, operation)  # noqa: E731
    before = figures() if args.statements_url else None
    per_request, per_rep = [], []
    for _ in range(args.reps):
        total = 0.0
        for body in bodies:
            elapsed, _, _ = client.post(body)
            per_request.append(elapsed)
            total += elapsed
        per_rep.append(total)
    statements = server_ms = None
    if before is not None:
        after = figures()
        statements = (after[0] - before[0]) / len(per_request)
        if after[2] > before[2]:
            server_ms = round((after[1] - before[1]) / (after[2] - before[2]) * 1000, 2)

    ms = lambda s: round(s * 1000, 2)  # noqa: E731
    print(
        json.dumps(
            {
                "title": meta.get("title", args.query),
                "pages": len(bodies),
                "response_bytes": size,
                "reps": args.reps,
                "request_p50_ms": ms(statistics.median(per_request)),
                "request_p99_ms": ms(percentile(per_request, 99)),
                "request_max_ms": ms(max(per_request)),
                "total_p50_ms": ms(statistics.median(per_rep)),
                "total_p99_ms": ms(percentile(per_rep, 99)),
                "statements_per_request": statements,
                "server_mean_ms": server_ms,
            }
        )
    )


if __name__ == "__main__":
    main()
