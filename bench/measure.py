#!/usr/bin/env python3
"""Sequential latency of one GraphQL operation, and the request bodies for the load generator.

Reads an operation file (bench/queries/<server>/*.graphql) whose leading comment lines may say
  # title: what it measures
  # paginate: rootField      (the operation takes $after and is walked page by page)
  # vars: NAME               (one request per line of variables in --vars, cycled through)
  # variables: {...}         (the variables of a write, with the placeholders of --slots)
  # header: Name: value      (a header of a write, with the same placeholders; may repeat)
then, over one keep-alive connection: walks it once to collect the answers and the page cursors,
runs it `--warmup` times, and `--reps` times measured (each phase stops early after
`--max-seconds`; the warm-up after a quarter of it). A request whose status is not 200 or whose answer has `errors` counts as
failed (`errors`, and the first one in `first_error`) and the measurement goes on. One repetition
is every page in order (a paged operation), or one request: the next variables of --vars, or
the next slot of --slots (a write: bench/slots.py, bench/wrk/graphql.lua say what a slot is).
With `--statements-url` (the server's Prometheus text endpoint) the statement counter and the
server's own request-duration histogram for the operation's name are read before and after the
measured repetitions: SQL statements per request, and the mean time the server spent on one
(without HTTP and the client).

Writes the request bodies (one JSON document a line, one per page or set of variables) to
`--bodies`, for wrk, or for a write the body template and its header lines; with
`--responses`, the answers of the checking walk (one JSON document a line), which
bench/compare.py compares across servers. Prints one JSON object with the figures, including
`requests`, every request it sent. Standard library only.
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
    out = {"header": []}
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("#"):
            break
        key, _, value = line[1:].partition(":")
        key, value = key.strip(), value.strip()
        if key == "header":
            out["header"].append(value)
        elif value:
            out[key] = value
    return out


def percentile(samples, p):
    """The p-th percentile (nearest rank) of samples, in the samples' unit."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


PLACEHOLDER = re.compile(r"__([A-Z_]+)__")


def read_slots(path):
    """(periods, pairs) of a slots file (bench/slots.py)."""
    periods, pairs = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] == "P":
                periods.append(dict(PERIOD=fields[1], PERIOD_STARTS_AT=fields[2], PERIOD_ENDS_AT=fields[3]))
            elif fields and fields[0] == "R":
                pairs.append(dict(TOKEN=fields[1], AGENCY_ID=fields[2], TASK_ID=fields[3], TASK_NUMBER=fields[4]))
    if not periods or not pairs:
        sys.exit(f"{path}: no periods or no pairs")
    return periods, pairs


def slot_values(slots, slot):
    """The placeholder values of slot `slot`, as bench/wrk/graphql.lua computes them."""
    periods, pairs = slots
    values = dict(pairs[slot % len(pairs)])
    values.update(periods[(slot // len(pairs)) % len(periods)])
    values["NOW"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000000+00:00"
    return values


def fill(text, values):
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


class Client:
    def __init__(self, url, token):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parsed.hostname, parsed.port, parsed.path or "/graphql"
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def post(self, body, headers=None):
        """POSTs body (with extra headers); returns (seconds, response bytes, decoded JSON, error):
        error is None, or what went wrong (a status other than 200, or the answer's `errors`)."""
        start = time.perf_counter()
        self.conn.request("POST", self.path, body=body, headers={**self.headers, **(headers or {})})
        response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - start
        try:
            answer = json.loads(data)
        except ValueError:
            answer = {}
        error = None
        if response.status != 200:
            error = f"HTTP {response.status}: {data[:300]!r}"
        elif not isinstance(answer, dict) or answer.get("errors") or "data" not in answer:
            error = f"errors: {json.dumps(answer.get('errors') if isinstance(answer, dict) else answer)[:300]}"
        return elapsed, data, answer, error


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
    ap.add_argument("--vars", default=None, help="variables, one JSON object a line, for `# vars:`")
    ap.add_argument("--slots", default=None, help="the slots file (bench/slots.py), for `# variables:`")
    ap.add_argument("--responses", default=None, help="where to write the answers of the checking walk")
    ap.add_argument(
        "--max-seconds",
        type=float,
        default=60,
        help="stop the warm-up and the repetitions after this long (an operation that takes seconds)",
    )
    args = ap.parse_args()

    text = open(args.query, encoding="utf-8").read()
    meta = directives(text)
    field = meta.get("paginate")
    client = Client(args.url, args.token)
    answers, answered, sent = [], [], 0
    failures = {"count": 0, "first": None}

    def failed(error):
        """Counts a failed request; a failure does not stop the measurement."""
        if error:
            failures["count"] += 1
            if failures["first"] is None:
                failures["first"] = error
                print(f"{args.query}: {error}", file=sys.stderr)

    if "variables" in meta:
        # A write: one request a slot, each a different report.
        if not args.slots:
            sys.exit(f"{args.query} is a write (# variables:): give --slots")
        slots = read_slots(args.slots)
        template = '{"query":' + json.dumps(text) + ',"variables":' + meta["variables"] + "}"
        headers = dict(h.split(":", 1) for h in meta["header"])
        headers = {k.strip(): v.strip() for k, v in headers.items()}

        def requests():
            nonlocal sent
            values = slot_values(slots, sent)
            sent += 1
            return fill(template, values), {k: fill(v, values) for k, v in headers.items()}

        with open(args.bodies, "w", encoding="utf-8") as out:
            out.write(template + "\n" + "".join(f"{k}: {v}\n" for k, v in headers.items()))
        body, extra = requests()
        _, data, answer, error = client.post(body, extra)
        failed(error)
        answers.append(data)
        answered.append(error is None)
        pages = 1
        next_request = requests
    else:
        # One walk: check the answers and collect the pages (or the sets of variables).
        bodies, after = [], None
        cycle = [None]
        if "vars" in meta:
            if not args.vars:
                sys.exit(f"{args.query} needs variables (# vars: {meta['vars']}): give --vars")
            with open(args.vars, encoding="utf-8") as f:
                cycle = [json.loads(line) for line in f if line.strip()]
        for variables in cycle:
            while True:
                if field:
                    variables = {"after": after}
                body = json.dumps({"query": text, "variables": variables or {}})
                _, data, answer, error = client.post(body)
                sent += 1
                failed(error)
                bodies.append(body)
                answers.append(data)
                answered.append(error is None)
                if not field or error:
                    break
                page = answer["data"][field]["pageInfo"]
                if not page["hasNextPage"]:
                    break
                after = page["endCursor"]
        with open(args.bodies, "w", encoding="utf-8") as out:
            out.write("\n".join(bodies) + "\n")
        # A paged operation's repetition is every page; otherwise one request, the next body.
        pages = len(bodies) if field else 1
        position = 0

        def next_request():
            nonlocal position, sent
            body = bodies[position % len(bodies)]
            position += 1
            sent += 1
            return body, None

    # The bytes of the answers that did not fail (a failure's answer is a short error).
    ok = [a for a, good in zip(answers, answered) if good] or answers
    size = sum(len(a) for a in ok)
    if args.responses:
        with open(args.responses, "w", encoding="utf-8") as out:
            out.write("\n".join(a.decode("utf-8") for a in answers) + "\n")

    deadline = time.monotonic() + args.max_seconds / 4
    for _ in range(args.warmup):
        if time.monotonic() > deadline:
            break
        for _ in range(pages):
            failed(client.post(*next_request())[3])
    operation = re.search(r"^\s*(?:query|mutation)\s+(\w+)", text, re.M)
    operation = operation.group(1) if operation else "anonymous"
    figures = lambda: server_figures(args.statements_url, args.statements_counter, operation)  # noqa: E731
    before = figures() if args.statements_url else None
    per_request, per_rep = [], []
    deadline = time.monotonic() + args.max_seconds
    for _ in range(args.reps):
        total = 0.0
        for _ in range(pages):
            elapsed, _, _, error = client.post(*next_request())
            failed(error)
            per_request.append(elapsed)
            total += elapsed
        per_rep.append(total)
        if time.monotonic() > deadline:
            break
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
                "pages": pages,
                "response_bytes": size,
                "bytes_per_request": round(size / len(ok)),
                "requests": sent,
                "reps": len(per_rep),
                "errors": failures["count"],
                "first_error": failures["first"],
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
