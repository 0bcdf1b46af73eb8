"""``flowlens run``: the nightly batch, every stage in one command, resumable."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowlens.cli import _common
from flowlens.cli.ingest import make_source
from flowlens.cli.recommend import add_settings_options, settings_from
from flowlens.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from flowlens.batch import BatchResult, InventorySpec


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "run",
        writes=_common.data_dir,
        help="the nightly batch: ingest, inventory, analyze, recommend, report",
        description="Run every stage for the window, the inventory snapshot first (at the run's "
        "start). A stage whose inputs did not change since the last run of the same window is "
        "skipped, so re-running after a failure resumes; an API snapshot taken after the window "
        "ended is reused, one taken while it was still open is not (docs/time.md). Writes the "
        "plan (plan.json, plan.md, plan.sh, plan.tf) and the report into --out.",
        example="flowlens run s3://my-flow-logs --date 2026-11-28 --inventory aws --regions "
        "eu-west-1 --json\n"
        "flowlens run ./mirror --date 2026-11-28 --inventory inventory/*.json "
        "--out reports/2026-11-28",
    )
    p.add_argument(
        "source",
        metavar="SOURCE",
        help="s3://bucket[/prefix] or a local directory laid out like the bucket",
    )
    _common.add_window_options(p)
    p.add_argument(
        "--inventory",
        nargs="+",
        metavar="aws|FILE",
        required=True,
        help="'aws' to read the EC2 API, or AWS CLI JSON files/folders",
    )
    p.add_argument(
        "--taken-at",
        metavar="TIMESTAMP",
        help="when the --inventory JSON files were captured, ISO 8601 UTC "
        "(default: now, with a warning)",
    )
    p.add_argument(
        "--config-history",
        action="store_true",
        help="with --inventory aws: after ingest, look up in AWS Config the ENIs of the window's "
        "flows that no snapshot holds (docs/time.md)",
    )
    p.add_argument(
        "--regions",
        metavar="R1,R2",
        help="regions for --inventory aws (default: the session's region)",
    )
    p.add_argument(
        "--out", metavar="DIR", help="plan and report directory (default: reports/<date>)"
    )
    p.add_argument("--profile", help="AWS profile (S3 and EC2)")
    p.add_argument("--endpoint-url", help="AWS endpoint for S3 and EC2 (default $AWS_ENDPOINT_URL)")
    p.add_argument(
        "--region",
        action="append",
        metavar="REGION",
        help="only flow logs of this region (repeatable), as with ingest; the first one is "
        "also the S3 client's region",
    )
    p.add_argument(
        "--account",
        action="append",
        metavar="ID",
        help="only flow logs of this account (repeatable)",
    )
    p.add_argument(
        "--flow-log-id", action="append", metavar="FL", help="only this flow log (repeatable)"
    )
    org = p.add_mutually_exclusive_group()
    org.add_argument(
        "--inventory-accounts",
        metavar="ID1,ID2",
        help="with --inventory aws and --role-name: inventory these accounts through the role "
        "(one snapshot; a plan and a report per account in <out>/accounts/<id>/)",
    )
    org.add_argument(
        "--accounts-from-organizations",
        action="store_true",
        help="with --inventory aws and --role-name: inventory every ACTIVE account of the "
        "organization",
    )
    p.add_argument(
        "--role-name", metavar="NAME", help="the read-only role to assume in each account"
    )
    p.add_argument("--external-id", metavar="X", help="the external id the role requires")
    p.add_argument(
        "--retry-mode",
        choices=("standard", "adaptive"),
        default="standard",
        help="botocore retry mode",
    )
    p.add_argument("--workers", type=int, default=2, help="objects read in parallel (default 2)")
    p.add_argument("--strict", action="store_true", help="any malformed line is fatal")
    p.add_argument(
        "--memory-limit",
        metavar="SIZE",
        type=_common.memory_size,
        help="DuckDB memory limit for the analysis, e.g. 4GB",
    )
    add_settings_options(p)
    p.add_argument(
        "--verify-plans",
        metavar="DIR",
        help="after the report, verify every plan JSON of DIR on the "
        "window's days that follow its own window ('flowlens verify')",
    )
    p.add_argument("--json", action="store_true", help="print the run summary as JSON on stdout")
    p.set_defaults(func=run)


def inventory_spec(args: argparse.Namespace) -> InventorySpec:
    from flowlens.batch import InventorySpec

    if args.inventory == ["aws"]:
        from flowlens.aws import AwsOptions
        from flowlens.aws import session as aws_session

        session = aws_session(
            AwsOptions(
                profile=args.profile, endpoint_url=args.endpoint_url, retry_mode=args.retry_mode
            )
        )
        regions = tuple(r for r in (args.regions or session.region_name or "").split(",") if r)
        if not regions:
            raise UsageError(
                "--inventory aws needs --regions (or a default region in the AWS config)"
            )
        if args.taken_at:
            raise UsageError(
                "--taken-at goes with --inventory FILE...; an API snapshot is "
                "stamped with the call time"
            )
        return InventorySpec(
            aws_session=session,
            regions=regions,
            endpoint_url=args.endpoint_url,
            config_history=args.config_history,
            **_org_options(args, session, regions),
        )
    if args.role_name or args.inventory_accounts or args.accounts_from_organizations:
        raise UsageError("--role-name and the accounts to inventory go with --inventory aws")
    if "aws" in args.inventory:
        raise UsageError("--inventory takes either 'aws' or JSON files, not both")
    if args.config_history:
        raise UsageError(
            "--config-history goes with --inventory aws; give Config history files to --inventory"
        )
    missing = [f for f in args.inventory if not Path(f).exists()]
    if missing:
        raise UsageError(f"--inventory: no such file or folder: {', '.join(missing)}")
    from flowlens.cli.inventory import parse_taken_at

    taken_at = parse_taken_at(args.taken_at) if args.taken_at else None
    return InventorySpec(json_paths=tuple(Path(f) for f in args.inventory), taken_at=taken_at)


def _org_options(
    args: argparse.Namespace, session: Any, regions: tuple[str, ...]
) -> dict[str, Any]:
    """InventorySpec's organisation fields: the accounts and the role to read them through."""
    many = args.inventory_accounts or args.accounts_from_organizations
    if bool(many) != bool(args.role_name) or (args.external_id and not many):
        raise UsageError(
            "--inventory-accounts ID1,ID2 (or --accounts-from-organizations) and --role-name "
            "go together (--external-id with them)"
        )
    if not many:
        return {}
    if args.config_history:
        raise UsageError(
            "--config-history reads one account's AWS Config; not with --inventory-accounts"
        )
    from flowlens.aws import AwsOptions, organization_accounts
    from flowlens.inventory.accounts import parse_accounts

    opts = AwsOptions(args.profile, regions[0], args.endpoint_url, "adaptive")
    accounts = (
        parse_accounts(args.inventory_accounts)
        if args.inventory_accounts
        else organization_accounts(opts, session)
    )
    return {
        "accounts": tuple(accounts),
        "role_name": args.role_name,
        "external_id": args.external_id,
        "profile": args.profile,
    }


def run(args: argparse.Namespace) -> int:
    days = _common.window_days(args)
    out = (
        Path(args.out)
        if args.out
        else Path("reports") / (days[0].isoformat() if len(days) == 1 else f"{days[0]}_{days[-1]}")
    )
    from flowlens.batch import run_batch

    source, prefix = make_source(args)
    result = run_batch(
        source,
        days,
        _common.data_dir(args),
        inventory_spec(args),
        out,
        prefix=prefix,
        settings=settings_from(args),
        strict=args.strict,
        workers=args.workers,
        memory_limit=args.memory_limit,
        regions=set(args.region) if args.region else None,
        accounts=set(args.account) if args.account else None,
        flow_log_ids=set(args.flow_log_id) if args.flow_log_id else None,
        verify_plans=Path(args.verify_plans) if args.verify_plans else None,
    )
    print_result(result, as_json=args.json)
    return report_exit(result)


def print_result(result: BatchResult, *, as_json: bool) -> None:
    if as_json:
        _common.print_json(result.to_dict())
        return
    for s in result.stages:
        print(f"{s.name:<10} {s.status:<8} {s.seconds:7.1f} s")
    print(f"report: {result.out_dir / 'report.html'}")
    for s in result.stages:
        if s.summary.get("accounts_html"):
            print(f"report: the accounts side by side: {s.summary['accounts_html']}")
        for account, page in (s.summary.get("account_reports") or {}).items():
            print(f"report: account {account}: {page}")
    per_account = [s.summary.get("account_plans") or {} for s in result.stages]
    # several accounts: no plan.sh or plan.tf at the top, each account's folder has its own
    scripts = "" if any(per_account) else ", plan.sh, plan.tf"
    print(f"plan:   {result.out_dir / 'plan.md'} (also plan.json{scripts})")
    for plans in per_account:
        for account, plan in plans.items():
            print(f"plan:   account {account}: {plan} (also plan.sh, plan.tf beside it)")
    for s in result.stages:
        if s.name == "verify":
            for plan, v in s.summary.items():
                print(
                    f"verify: {plan}: "
                    f"{v['reason'] if v['status'] != 'skipped' else 'skipped, ' + v['reason']}"
                )


def report_exit(result: BatchResult) -> int:
    for key in result.failed_objects:
        print(f"flowlens run: failed object: {key} (see ingest_manifest)", file=sys.stderr)
    failed = [
        f for s in result.stages if s.name == "inventory" for f in s.summary.get("failed") or []
    ]
    for f in failed:
        where = f"account {f['account']}{' ' + f['region'] if f['region'] else ''}"
        print(f"flowlens run: inventory failed: {where}: {f['error']}", file=sys.stderr)
    return int(ExitCode.FAILURE if result.failed_objects or failed else ExitCode.OK)
