"""``flowlens dismissals``: list the reviewer's dismissals with their state, or remove some."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from flowlens.cli import _common
from flowlens.cli.dismiss import _row
from flowlens.datadir import DataDir


def _remove_lock_dir(args: argparse.Namespace) -> DataDir | None:
    """The data dir when --remove rewrites its dismissals table; a listing only reads."""
    return _common.data_dir(args) if args.remove else None


def register(sub: Any) -> None:
    q = _common.command_parser(
        sub,
        "dismissals",
        writes=_remove_lock_dir,
        help="list or remove dismissals",
        description="List the dismissals of the data dir with their state: active, expired (past "
        "--until) or lapsed (no rule of the newest snapshot has that content any more: the rule "
        "changed or was deleted, so the recommender judges it afresh). --remove drops dismissals "
        "by content key or rule id. The table is also the catalog view "
        "'dismissals' ('flowlens sql').",
        example="flowlens dismissals\nflowlens dismissals --remove sgr-0a2752576ebbf3b85",
    )
    q.add_argument("--remove", nargs="+", metavar="KEY", help="content keys or rule ids to remove")
    q.add_argument("--json", action="store_true", help="print as JSON")
    q.set_defaults(func=run_dismissals)


def run_dismissals(args: argparse.Namespace) -> int:
    from flowlens import dismissals

    dd = _common.data_dir(args)
    if args.remove:
        gone = dismissals.remove(dd, args.remove)
        for d in gone:
            print(f"removed {d.content_key} ({d.rule_id})")
        return 0
    today = datetime.now(UTC).date()
    keys = dismissals.current_keys(dd) if dd.snapshots() else None
    rows = [_row(d, d.state(today, keys).value) for d in dismissals.load(dd)]
    if args.json:
        _common.print_json(rows)
        return 0
    if not rows:
        print("no dismissals")
    for r in rows:
        until = f", until {r['until']}" if r["until"] else ""
        print(
            f"{r['content_key']}  {r['rule_id']} ({r['group_id']} {r['direction']} {r['peer']})  "
            f"{r['state']}: by {r['dismissed_by']} on "
            f"{r['dismissed_at'][:10]}{until}, reason: {r['reason']}"
        )
    return 0
