"""``flowlens dismiss`` and ``flowlens dismissals``: a reviewer's "leave this
rule alone", remembered."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from flowlens.cli import _common


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "dismiss",
        writes=_common.data_dir,
        help="remember that a rule (or a finding's rule) is to be left alone",
        description="Record a reviewer's decision about RULE_OR_FINDING (an sgr- id of the newest "
        "snapshot, or a finding id that names a rule) in the data dir's dismissals table. It is "
        "keyed by the rule's content (group, direction, protocol, ports, peer): it survives "
        "re-runs and rule-id changes and lapses when the rule's content changes. 'flowlens "
        "recommend' keeps dismissed rules as they are and lists them as 'kept: dismissed by ..., "
        "reason ...'. Dismissing a rule again replaces its dismissal.",
        example="flowlens dismiss sgr-0a2752576ebbf3b85 --reason 'quarterly MySQL export, see "
        "TICKET-12' --until 2027-03-31",
    )
    p.add_argument(
        "target", metavar="RULE_OR_FINDING", help="sgr-... rule id, or a finding id naming a rule"
    )
    p.add_argument(
        "--reason",
        required=True,
        metavar="TEXT",
        help="why the rule stays (shown wherever it is kept)",
    )
    p.add_argument(
        "--until",
        metavar="YYYY-MM-DD",
        help="the last UTC day the dismissal holds (default: no end)",
    )
    p.add_argument("--by", metavar="NAME", help="who decided (default: the login name)")
    p.add_argument("--json", action="store_true", help="print the recorded dismissal as JSON")
    p.set_defaults(func=run_dismiss)


def _row(d: Any, state: str) -> dict[str, Any]:
    return {
        **d.to_row(),
        "state": state,
        "dismissed_at": d.dismissed_at.isoformat(),
        "until": d.until.isoformat() if d.until else None,
    }


def run_dismiss(args: argparse.Namespace) -> int:
    from flowlens import dismissals

    until = _common.parse_day(args.until, "--until") if args.until else None
    d = dismissals.dismiss(
        _common.data_dir(args),
        args.target,
        args.reason,
        by=args.by or getpass.getuser(),
        until=until,
    )
    if args.json:
        _common.print_json(_row(d, "active"))
    else:
        print(f"dismissed {d.rule_id} ({d.group_id}) as {d.content_key}: {d.kept_reason()}")
    return 0
