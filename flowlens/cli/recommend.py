"""``flowlens recommend``: the tightening plan, proven by replay, as JSON,
Markdown, CLI or Terraform."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flowlens.atomic import write_text_atomic
from flowlens.cli import _common
from flowlens.cli.progress import StatusLine, phases
from flowlens.errors import UsageError
from flowlens.model.plan import Plan
from flowlens.recommend import permissiveness, tradeoff
from flowlens.recommend.inputs import Inventory, Settings
from flowlens.recommend.observations import Observations
from flowlens.recommend.render_cli import render_cli
from flowlens.recommend.render_md import render_md
from flowlens.recommend.render_tf import render_tf

RENDERERS = {"json": Plan.to_json, "md": render_md, "aws-cli": render_cli, "terraform": render_tf}


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "recommend",
        writes=_common.data_dir,
        help="least-privilege SG changes, proven by replay",
        description="Propose removals and narrowings of SG rules from the analysis results. Every "
        "proposal is replayed against the window's accepted flows; one that "
        "would cut any is dropped.",
        example="flowlens recommend --date 2026-11-28 --format aws-cli --out tighten.sh\n"
        "flowlens recommend --start 2026-11-01 --end 2026-11-28 --format md --max-prefixes 3",
    )
    _common.add_window_options(p)
    p.add_argument(
        "--format", choices=sorted(RENDERERS), default="json", help="plan format (default json)"
    )
    p.add_argument("--out", metavar="FILE", help="write the plan here (default: stdout)")
    p.add_argument(
        "--account",
        metavar="ID",
        help="only the recommendations for this account's security groups (an aws-cli or "
        "terraform plan of several accounts needs it: one script per account)",
    )
    p.add_argument(
        "--tradeoff",
        action="store_true",
        help="print, per narrowed CIDR rule and for the plan, the Pareto points of rules vs "
        "permissiveness (1-100) with the chosen one marked, instead of the plan "
        "(which --out still writes)",
    )
    add_settings_options(p)
    _common.add_location_options(p.add_argument_group("data in S3 (docs/engines.md)"))
    p.set_defaults(func=run)


def add_settings_options(p: argparse.ArgumentParser) -> None:
    """The recommender's tuning options (shared with ``flowlens run``)."""
    p.add_argument(
        "--max-prefixes",
        type=int,
        default=Settings.k_prefixes,
        metavar="K",
        help=f"at most K prefixes when narrowing a CIDR (default {Settings.k_prefixes})",
    )
    p.add_argument(
        "--min-coverage",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="propose a prefix only when at least SHARE (0-1) of its addresses were "
        "observed (default 0: off)",
    )
    p.add_argument(
        "--max-prefix",
        type=int,
        metavar="LEN",
        help="never propose a prefix wider than /LEN (IPv4; IPv6 /4xLEN); default: no limit",
    )
    p.add_argument(
        "--max-rules",
        type=int,
        metavar="N",
        help="narrowings never grow an SG past N rules (default: no limit)",
    )
    p.add_argument(
        "--exclude-group",
        action="append",
        default=[],
        metavar="SG",
        help="never touch this SG (repeatable)",
    )
    p.add_argument(
        "--exclude-rule",
        action="append",
        default=[],
        metavar="SGR",
        help="never touch this rule (repeatable)",
    )
    p.add_argument(
        "--history-days",
        type=int,
        default=Settings.history_days,
        metavar="N",
        help="days of analysed rule_usage behind each rule's history; a periodic rule's removal "
        f"waits for more than two periods (default {Settings.history_days})",
    )
    p.add_argument(
        "--min-window-days",
        type=float,
        default=Settings.min_window_days,
        metavar="N",
        help=f"fewer than N analysed days raise the risk level, as do days of the window without "
        f"analysis (default {Settings.min_window_days:g})",
    )
    p.add_argument(
        "--quota",
        type=int,
        default=Settings.quota_per_family,
        metavar="N",
        help=f"rules per SG per direction per address family (default {Settings.quota_per_family})",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    if args.max_prefixes < 1:
        raise UsageError(f"--max-prefixes {args.max_prefixes}: must be at least 1")
    if args.min_window_days < 0:
        raise UsageError(f"--min-window-days {args.min_window_days}: must not be negative")
    if not 0 <= args.min_coverage <= 1:
        raise UsageError(f"--min-coverage {args.min_coverage}: must be between 0 and 1")
    if args.max_prefix is not None and not 0 <= args.max_prefix <= 32:
        raise UsageError(f"--max-prefix {args.max_prefix}: must be 0-32")
    if args.history_days < 1:
        raise UsageError(f"--history-days {args.history_days}: must be at least 1")
    if args.max_rules is not None and args.max_rules < 1:
        raise UsageError(f"--max-rules {args.max_rules}: must be at least 1")
    return Settings(
        k_prefixes=args.max_prefixes,
        min_window_days=args.min_window_days,
        min_coverage=args.min_coverage,
        max_prefix=args.max_prefix,
        max_rules_per_sg=args.max_rules,
        history_days=args.history_days,
        quota_per_family=args.quota,
        exclude_groups=frozenset(args.exclude_group),
        exclude_rules=frozenset(args.exclude_rule),
    )


def _one_account(plan: Plan, args: argparse.Namespace) -> Plan:
    """--account ID: that account's part; a script or Terraform file never mixes accounts."""
    from flowlens.recommend.by_account import for_account, plan_accounts

    if args.account:
        return for_account(plan, args.account)
    accounts = plan_accounts(plan)
    if args.format in ("aws-cli", "terraform") and len(accounts) > 1:
        named = ", ".join(a or "(account not known)" for a in accounts)
        raise UsageError(
            f"the plan is for {len(accounts)} accounts ({named}); a {args.format} plan holds one: "
            "pass --account ID for each ('flowlens run' writes <out>/accounts/<id>/)"
        )
    return plan


def run(args: argparse.Namespace) -> int:
    from flowlens.recommend.pipeline import recommend

    settings = settings_from(args)
    shown: list[str] = []

    def trade(plan: Plan, inv: Inventory, obs: Observations) -> None:
        cs = tradeoff.curves(
            plan.recommendations, inv.rules, obs, max(settings.k_prefixes, 8), inv.ctx
        )
        changes = {r.rule_id: r.proposed for r in plan.recommendations}
        before, after = permissiveness.plan_totals(inv.rules, changes, inv.ctx)
        shown.append(tradeoff.render(cs, before, after))

    line = StatusLine.for_args(args)
    try:
        plan = recommend(
            _common.data_dir(args),
            _common.window_days(args),
            settings,
            on_plan=trade if args.tradeoff else None,
            progress=phases(line, "recommend") if line.enabled else None,
        )
    finally:
        line.close()
    plan = _one_account(plan, args)
    text = RENDERERS[args.format](plan)
    if args.out:
        write_text_atomic(text, Path(args.out))
    if args.tradeoff:
        sys.stdout.write(shown[0])
    elif not args.out:
        sys.stdout.write(text)
    v = plan.verification
    if not args.quiet:
        print(
            f"{len(plan.recommendations)} recommendations, {len(plan.dropped)} dropped, "
            f"{len(plan.kept)} rules kept; replay: {v.claim()}",
            file=sys.stderr,
        )
    return 0
