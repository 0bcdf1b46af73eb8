"""``flowlens verify``: replay the days after a plan against it; the plan
becomes ready or blocked."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flowlens.cli import _common
from flowlens.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "verify",
        writes=_common.data_dir,
        help="replay later days against a plan (staged plans): pending, ready or blocked",
        description="Security groups have no audit mode, so a plan is staged: each analysed day "
        "after the plan's window is replayed against its proposed rules (and the rules it leaves "
        "alone) with the recommender's replay, memberships at each flow's time included, and the "
        "result is added to PLAN.verification.json beside the plan and to the catalog table "
        "plan_verifications. The plan is 'blocked' as soon as a verified day has a flow it would "
        "cut (the record names the recommendation and example flows: peer, port, ENI, time, first "
        "day seen), 'ready' after --min-window-days clean days, 'pending' before. 'flowlens apply "
        "--commit' applies only a ready plan. Workflow: recommend once, verify nightly (or "
        "'flowlens run --verify-plans DIR'), apply when ready. Exit 1 when the plan is blocked.",
        example="flowlens verify plans/plan.json --date 2026-11-29\n"
        "flowlens verify plans/plan.json --start 2026-11-29 --end 2026-12-12 --min-window-days 14\n"
        "# cron, 03:00 UTC, once the nightly run has analysed yesterday:\n"
        "# 0 3 * * * flowlens verify /srv/plans/plan.json --date $(date -u -d yesterday +\\%F)\n"
        "# or in the nightly run itself, for every plan of a directory:\n"
        "# flowlens run s3://my-flow-logs --date D --inventory aws --verify-plans /srv/plans",
    )
    p.add_argument(
        "plan", metavar="PLAN.json", help="a plan from 'flowlens recommend --format json'"
    )
    _common.add_window_options(p)
    p.add_argument(
        "--min-window-days",
        type=float,
        metavar="N",
        help="clean days needed for 'ready' (default: the plan's own --min-window-days)",
    )
    p.add_argument("--json", action="store_true", help="print the verification record as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowlens.verify.run import record_path, verify

    if args.min_window_days is not None and args.min_window_days < 0:
        raise UsageError(f"--min-window-days {args.min_window_days}: must not be negative")
    record = verify(
        _common.data_dir(args),
        Path(args.plan),
        _common.window_days(args),
        min_window_days=args.min_window_days,
    )
    if args.json:
        _common.print_json(record.to_dict())
    else:
        t = record.totals()
        print(f"{args.plan}: {record.status_reason()}")
        n = len(record.days)
        print(
            f"  {n} day{'' if n == 1 else 's'} verified ({record.clean_days} clean), "
            f"{t['flows_checked']:,} flows checked, {t['flows_cut']:,} would be cut, "
            f"{t['flows_unattributed']:,} unattributed "
            f"({t['flows_unattributed_protected']:,} protected)"
        )
        for b in record.blockers():
            for e in b.examples:
                port = f"/{e.port}" if e.port is not None else ""
                print(
                    f"  {b.rule_id}: {e.day} {e.direction} protocol {e.protocol}{port} peer "
                    f"{e.peer} on {e.eni_id}, {e.flows:,} flows, last {e.last_seen:%H:%M:%S}"
                    if e.last_seen
                    else f"  {b.rule_id}: {e.peer}"
                )
        print(f"  record: {record_path(Path(args.plan))}")
    return int(ExitCode.FAILURE if record.status.value == "blocked" else ExitCode.OK)
