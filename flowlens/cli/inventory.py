"""``flowlens inventory``: snapshot the network inventory from the EC2 API or AWS CLI JSON."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from flowlens.cli import _common
from flowlens.errors import UsageError

if TYPE_CHECKING:
    from flowlens.inventory import SnapshotInfo

EXAMPLE = """\
flowlens inventory --aws --regions us-east-1,eu-west-1 --profile audit
flowlens inventory --from-json exports/   # aws ec2 describe-* outputs, shape detected per file"""


def register(sub: Any) -> None:
    parser = _common.command_parser(
        sub, "inventory", writes=_common.data_dir,
        help="snapshot SGs, rules, ENIs, NACLs, prefix lists and flow-log coverage",
        description="Take an inventory snapshot from the EC2 API (--aws) or from AWS CLI "
        "'aws ec2 describe-*' output files (--from-json). The snapshot is written atomically to "
        "<data-dir>/inventory/snapshot=<UTC stamp>/.",
        example=EXAMPLE,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--aws", action="store_true", help="read the EC2 API (needs the IAM actions in docs/inventory.md)")
    source.add_argument("--from-json", nargs="+", metavar="FILE", help="AWS CLI JSON files or folders of them")
    parser.add_argument("--regions", metavar="R1,R2", help="regions for --aws (default: the session's region)")
    parser.add_argument("--profile", metavar="P", help="AWS profile for --aws")
    parser.add_argument("--endpoint-url", metavar="URL", help="EC2 endpoint for --aws (also $AWS_ENDPOINT_URL)")
    parser.add_argument("--region", metavar="R", help="region to record for --from-json rows that do not name one")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def _regions(args: argparse.Namespace, default: str | None) -> list[str]:
    chosen = [r.strip() for r in (args.regions or "").split(",") if r.strip()]
    if not chosen and default:
        chosen = [default]
    if not chosen:
        raise UsageError("--aws needs --regions r1,r2 (no default region is configured)")
    return chosen


def _from_aws(args: argparse.Namespace) -> SnapshotInfo:
    from flowlens.inventory import snapshot_from_aws
    from flowlens.inventory.from_aws import make_session

    session = make_session(args.profile)
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    return snapshot_from_aws(session, _regions(args, session.region_name), _common.data_dir(args), endpoint_url=endpoint)


def run(args: argparse.Namespace) -> int:
    if args.from_json and (args.regions or args.profile or args.endpoint_url):
        raise UsageError("--regions/--profile/--endpoint-url go with --aws, not --from-json")
    from flowlens.catalog import refresh_catalog
    from flowlens.inventory import snapshot_from_json

    dd = _common.data_dir(args)
    info = _from_aws(args) if args.aws else snapshot_from_json(args.from_json, dd, region=args.region)
    refresh_catalog(dd)
    if args.json:
        _common.print_json(info.to_dict())
    else:
        _print_summary(info)
    return 0


def _print_summary(info: SnapshotInfo) -> None:
    print(f"snapshot {info.stamp} ({info.source}; regions: {', '.join(info.regions) or '-'})")
    width = max(len(name) for name in info.row_counts)
    for name, count in info.row_counts.items():
        print(f"  {name:<{width}}  {count:>8}")
    print(f"written to {info.path}")
