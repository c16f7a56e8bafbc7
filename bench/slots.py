#!/usr/bin/env python3
"""The slots of the write benchmark (Q4): which report each submission files.

workplan keeps at most one live report per reporter, task, period and kind (and so does the
database: the partial unique index ux_reports_live_agency), so submitting the same report twice
is a CONFLICT. Each request of a run therefore takes its own slot: slot s is the pair s mod P
(an agency reporter's token, the agency, one task it is responsible for: every responsibility of
the agencies given) and the period floor(s / P) of the periods list. The periods are those no
demo report uses: every year, half, quarter and month of 2021–2099 (`workplan seed --demo`
writes 2016–2020), the latest year first, 19 a year, 1,501 in all; with the 459
responsibilities of the plan that is 689,000 different reports, more than any 10 s run sends.

Reads "token agency_id task_id task_number" lines (tab- or space-separated) on stdin and writes
  P <period> <starts_at> <ends_at>        one line a period
  R <token> <agency_id> <task_id> <task_number>   one line a pair
to --out. starts_at and ends_at are what workplan stores in period_starts_at and
period_ends_at (the period's first instant and the next period's, in China Standard Time), so
PostGraphile inserts the same column values. Standard library only.
"""

import argparse
import sys

FIRST_YEAR, LAST_YEAR = 2021, 2099


def month_start(year, month):
    """The first instant of the month, in China Standard Time (UTC+8), as ISO 8601."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return f"{year:04d}-{month:02d}-01T00:00:00+08:00"


def periods():
    """(key, starts_at, ends_at) of every period of FIRST_YEAR..LAST_YEAR, the latest year first."""
    out = []
    for year in range(LAST_YEAR, FIRST_YEAR - 1, -1):
        spans = [(f"{year}", 1, 12)]
        spans += [(f"{year}-H{h}", (h - 1) * 6 + 1, 6) for h in (1, 2)]
        spans += [(f"{year}-Q{q}", (q - 1) * 3 + 1, 3) for q in (1, 2, 3, 4)]
        spans += [(f"{year}-{m:02d}", m, 1) for m in range(1, 13)]
        for key, start, months in spans:
            out.append((key, month_start(year, start), month_start(year, start + months)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    pairs = [line.split() for line in sys.stdin if line.strip()]
    if not pairs or any(len(p) != 4 for p in pairs):
        sys.exit("slots.py: expected lines of 'token agency_id task_id task_number' on stdin")
    with open(args.out, "w", encoding="utf-8") as out:
        for key, starts, ends in periods():
            out.write(f"P {key} {starts} {ends}\n")
        for token, agency, task, number in pairs:
            out.write(f"R {token} {agency} {task} {number}\n")


if __name__ == "__main__":
    main()
