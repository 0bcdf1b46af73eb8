"""``flowlens analyze``: build the results tables for a window of days."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flowlens.analyze import analyze
from flowlens.analyze.pipeline import DEFAULT_LOOKBACK_DAYS
from flowlens.cli import _common
from flowlens.errors import UsageError


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub, "analyze", help="attribute flows to SG rules; rule usage, rejected traffic, findings",
        description="Analyse each UTC day of the window: conversations and their initiators, the SG rules "
        "each accepted connection used, rule usage with status and reason, the cause of every REJECT, and "
        "posture findings. Results go to results/date=<D>/ and the catalog.",
        example="flowlens analyze --date 2026-11-28\nflowlens analyze --start 2026-11-01 --end 2026-11-28 --memory-limit 4GB --json",
    )
    _common.add_window_options(p)
    p.add_argument("--memory-limit", metavar="SIZE", help="DuckDB memory limit, e.g. 4GB; larger work spills to <data-dir>/.tmp")
    p.add_argument("--threads", type=int, metavar="N", help="DuckDB worker threads (default: all cores)")
    p.add_argument("--lookback-days", type=int, default=DEFAULT_LOOKBACK_DAYS, metavar="N",
                   help=f"earlier analysed days that count as usage history (default: {DEFAULT_LOOKBACK_DAYS})")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be at least 1")
    if args.lookback_days < 0:
        raise UsageError("--lookback-days cannot be negative")
    summary = analyze(_common.data_dir(args), _common.window_days(args), memory_limit=args.memory_limit,
                      threads=args.threads, lookback_days=args.lookback_days)
    if args.json:
        _common.print_json(summary.to_dict())
        return 0
    for d in summary.days:
        rules = ", ".join(f"{k} {v}" for k, v in d.rules.items())
        rejected = ", ".join(f"{k} {v}" for k, v in d.rejected.items()) or "none"
        print(f"{d.day}: {d.records} records, {d.conversations} conversations; rules: {rules}; "
              f"rejected: {rejected}; {sum(d.findings.values())} findings ({d.seconds:.1f}s)")
    print("query the results with: flowlens sql \"SELECT * FROM rule_usage\"", file=sys.stderr)
    return 0
