"""``flowlens apply``: dry-run a plan against EC2 (default), or commit it with a rollback file."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowlens.cli import _common
from flowlens.errors import ExitCode, InputError

if TYPE_CHECKING:
    from flowlens.recommend.apply import ApplyResult


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "apply",
        help="apply a plan (dry-run unless --commit)",
        description="Make the plan's EC2 calls. Without --commit every call carries DryRun=True "
        "and the answer per call is shown. With --commit: write a rollback file, authorize the "
        "new rules, check they exist, then revoke the old ones; stop at the first failure and "
        "print the rollback command. Before the first call the rules to revoke are compared with "
        "the live ones (describe-security-group-rules): a plan whose rules changed since its "
        "snapshot is refused (exit 2, naming each rule and how it changed) unless --force is "
        "given. --commit also refuses a plan that 'flowlens verify' has not found ready (its "
        "PLAN.verification.json beside it: pending or blocked, naming why) unless --force is "
        "given; a dry run only warns.",
        example="flowlens apply plan.json\nflowlens apply plan.json --commit --region eu-west-1\n"
        "flowlens apply plan.rollback-20261129T020000Z.json --commit",
    )
    p.add_argument(
        "plan",
        metavar="PLAN.json",
        help="a plan from 'recommend --format json', or a rollback file",
    )
    p.add_argument("--commit", action="store_true", help="really change the security groups")
    p.add_argument(
        "--force",
        action="store_true",
        help="apply even when rules to revoke changed since the plan's snapshot or the plan is "
        "not verified ready (the override is recorded in the rollback file)",
    )
    p.add_argument(
        "--rollback",
        metavar="FILE",
        help="where --commit writes the rollback file "
        "(default: PLAN.rollback-<UTC stamp>.json beside the plan)",
    )
    p.add_argument("--region", help="AWS region")
    p.add_argument("--profile", help="AWS profile")
    p.add_argument(
        "--endpoint-url", help="EC2 endpoint (e.g. a moto server); also AWS_ENDPOINT_URL"
    )
    p.set_defaults(func=run)


def _print(result: ApplyResult) -> None:
    for s in result.steps:
        print(f"{'ok  ' if s.ok else 'FAIL'} {s.call:<18} {s.target}: {s.detail}")


def _rollback_command(args: argparse.Namespace, path: Path) -> str:
    extra = [
        f"--{k.replace('_', '-')} {shlex.quote(v)}"
        for k, v in (
            ("region", args.region),
            ("profile", args.profile),
            ("endpoint_url", args.endpoint_url),
        )
        if v
    ]
    return " ".join(["flowlens apply", shlex.quote(str(path)), "--commit", *extra])


def _not_ready(path: Path) -> tuple[str, str] | None:
    """(status, reason) of a plan that its verification record does not call ready; None for ready
    plans and for rollback files (a rollback restores what was, it needs no verification)."""
    from flowlens.verify.run import plan_status

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # load_change_set has already said what is wrong with it
    if not isinstance(doc, dict) or "recommendations" not in doc:
        return None
    status, reason = plan_status(path)
    return None if status == "ready" else (status, reason)


def run(args: argparse.Namespace) -> int:
    from flowlens.recommend.apply import (
        check_live,
        commit,
        dry_run,
        load_change_set,
        make_client,
        stale_plan_error,
    )

    path = Path(args.plan)
    cs = load_change_set(path)
    not_ready = _not_ready(path)
    if not_ready and args.commit and not args.force:
        raise InputError(
            f"{path}: the plan is {not_ready[0]}, not ready: {not_ready[1]}; apply it when "
            "'flowlens verify' says ready, or pass --force (recorded in the rollback file)"
        )
    if not_ready:
        print(
            f"warning: {'--force: ' if args.commit else ''}the plan is "
            f"{not_ready[0]}: {not_ready[1]}",
            file=sys.stderr,
        )
    client = make_client(args.region, args.profile, args.endpoint_url)
    changed = check_live(client, cs)
    if changed and not args.force:
        raise stale_plan_error(str(path), cs, changed)
    for d in changed:
        print(f"warning: --force: {d}", file=sys.stderr)
    if not args.commit:
        result = dry_run(client, cs)
        _print(result)
        print(
            f"dry run: {sum(s.ok for s in result.steps)}/{len(result.steps)} calls would succeed; "
            "nothing was changed (add --commit to apply)",
            file=sys.stderr,
        )
        return int(ExitCode.FAILURE if result.failed else ExitCode.OK)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    rb = (
        Path(args.rollback)
        if args.rollback
        else path.with_name(f"{path.stem}.rollback-{stamp}.json")
    )
    result = commit(client, cs, rb, forced=changed, not_ready=not_ready)
    _print(result)
    if result.failed:
        print(
            "apply stopped at the first failure; to undo what was done run:\n"
            f"  {_rollback_command(args, rb)}",
            file=sys.stderr,
        )
        return int(ExitCode.FAILURE)
    print(
        f"applied; rollback file: {rb}\n  undo with: {_rollback_command(args, rb)}", file=sys.stderr
    )
    return int(ExitCode.OK)
