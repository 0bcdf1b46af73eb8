"""``flowlens sql``: ad-hoc read-only SQL over the catalog."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from typing import Any

from flowlens import query
from flowlens.cli import _common
from flowlens.errors import FlowlensError


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub, "sql", help="ad-hoc read-only SQL over the catalog",
        description="Run a read-only query over every flowlens table (flows, sg_rules, conversations, "
        "rule_usage, rejected, findings, ...). No QUERY opens an interactive prompt; '-' reads the query "
        "from stdin.",
        example="flowlens sql \"SELECT rule_id, status, status_reason FROM rule_usage WHERE status = 'unused'\"\n"
        "echo 'SELECT cause, COUNT(*) FROM rejected GROUP BY cause' | flowlens sql - --format json",
    )
    p.add_argument("query", nargs="?", metavar="QUERY", help="the SQL; '-' reads it from stdin")
    p.add_argument("--format", choices=query.FORMATS, default="table", help="output format (default: table)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowlens.catalog import connect

    con = connect(_common.data_dir(args), read_only=True)
    try:
        if args.query is None:
            return _interactive(con, args.format)
        sql = sys.stdin.read() if args.query == "-" else args.query
        names, rows = query.run(con, sql)
        print(query.render(names, rows, args.format))
        return 0
    finally:
        con.close()


def _interactive(con: Any, fmt: str) -> int:
    with contextlib.suppress(ImportError):
        importlib.import_module("readline")  # line editing and history for input()
    print("flowlens sql (read-only). One statement per line; '.quit' or Ctrl-D to leave.", file=sys.stderr)
    while True:
        try:
            line = input("flowlens> ").strip()
        except EOFError:
            print(file=sys.stderr)
            return 0
        if line in (".quit", ".exit", "quit", "exit"):
            return 0
        if not line:
            continue
        try:
            names, rows = query.run(con, line)
            print(query.render(names, rows, fmt))
        except FlowlensError as exc:  # a bad query must not end the session
            print(f"error: {exc}", file=sys.stderr)
