"""``flowlens report``: the HTML + Markdown + JSON + PNG report of a window."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flowlens.cli import _common
from flowlens.datadir import DataDir


def _report_lock_dir(args: argparse.Namespace) -> DataDir | None:
    """The data dir when the report goes into it (its lock then held); a
    report elsewhere only reads."""
    dd = _common.data_dir(args)
    if not args.out:
        return None
    out, root = Path(args.out).resolve(), dd.root.resolve()
    return dd if out == root or root in out.parents else None


def register(sub: Any) -> None:
    parser = _common.command_parser(
        sub,
        "report",
        writes=_report_lock_dir,
        help="write the HTML/Markdown/JSON report with charts",
        description="Write a self-contained report of a window into DIR: report.html (charts "
        "embedded, no network fetches), summary.md, report.json and the charts as PNG files. "
        "When the inventory holds several AWS accounts, also each account's own report in "
        "DIR/accounts/<id>/ and the accounts side by side, worst first, in accounts.html, "
        "accounts.md and accounts.json.",
        example="flowlens report --date 2026-11-28 --plan plan.json --out reports/2026-11-28",
    )
    _common.add_window_options(parser)
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="output directory (default: reports/<date> or reports/<start>_<end>)",
    )
    parser.add_argument(
        "--plan",
        metavar="FILE",
        help="plan JSON from 'flowlens recommend --format json': "
        "adds the replay verification and exposure after that plan",
    )
    parser.add_argument(
        "--snapshot", metavar="STAMP", help="inventory snapshot (YYYYMMDDTHHMMSSZ; default: latest)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the written paths as JSON on stdout"
    )
    _common.add_location_options(parser.add_argument_group("data in S3 (docs/engines.md)"))
    parser.set_defaults(func=run)


def default_out(days: list[Any]) -> Path:
    first, last = days[0], days[-1]
    return Path("reports") / (first.isoformat() if first == last else f"{first}_{last}")


def run(args: argparse.Namespace) -> int:
    from flowlens.report import write_report
    from flowlens.report.accounts import write_organisation
    from flowlens.report.render import read_plan_file

    days = _common.window_days(args)
    out = Path(args.out) if args.out else default_out(days)
    dd = _common.data_dir(args)
    paths = write_report(dd, days, out, plan=args.plan, snapshot=args.snapshot)
    plan = read_plan_file(Path(args.plan)) if args.plan else None
    # An organisation: each account's own report and the accounts side by side.
    rows = write_organisation(
        dd, days, out, plan=plan, plan_source=args.plan or "plan", snapshot=args.snapshot
    )
    accounts = {r.account_id: str(out / r.report) for r in rows if r.report}
    if args.json:
        doc: dict[str, Any] = {
            "directory": str(paths.directory),
            "html": str(paths.html),
            "markdown": str(paths.markdown),
            "json": str(paths.json),
            "charts": [str(p) for p in paths.charts],
        }
        if len(rows) > 1:
            doc["accounts"] = str(out / "accounts.html")
            doc["account_reports"] = accounts
        _common.print_json(doc)
    else:
        print(paths.html)
        if len(rows) > 1:
            print(out / "accounts.html")
    return 0
