"""``flowlens inventory``: snapshot the network inventory from the EC2 API or AWS CLI JSON."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flowlens.cli import _common
from flowlens.errors import UsageError

if TYPE_CHECKING:
    from flowlens.datadir import DataDir
    from flowlens.inventory import ConfigLookup, SnapshotInfo
    from flowlens.inventory.config_store import ConfigHistoryInfo

EXAMPLE = (
    "flowlens inventory --aws --regions us-east-1,eu-west-1 --profile audit\n"
    "flowlens inventory --from-json exports/ --taken-at 2026-11-28T06:00:00Z"
    "   # aws ec2 describe-* outputs\n"
    "flowlens inventory --aws --config-history --date 2026-11-28"
    "   # after ingest: ENIs no snapshot holds\n"
    "0 * * * * flowlens inventory --aws --regions eu-west-1 -q   # cron: a snapshot every hour"
)

#: How far in the future a --taken-at may lie (clock skew between the exporting host and this one).
_SKEW = timedelta(minutes=5)


def register(sub: Any) -> None:
    parser = _common.command_parser(
        sub,
        "inventory",
        writes=_common.data_dir,
        help="snapshot SGs, rules, ENIs, NACLs, prefix lists and flow-log coverage",
        description="Take an inventory snapshot from the EC2 API (--aws, stamped with the call "
        "time) or from AWS CLI 'aws ec2 describe-*' output files (--from-json, stamped with "
        "--taken-at). The snapshot is written atomically to <data-dir>/inventory/snapshot=<UTC "
        "stamp>/; tables unchanged since the previous snapshot are hard links to it. Many "
        "snapshots make a timeline (docs/time.md): take one every hour. 'aws configservice "
        "get-resource-config-history' files (top-level configurationItems) given to --from-json "
        "are stored as AWS Config history in <data-dir>/inventory/config_history/.",
        example=EXAMPLE,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--aws",
        action="store_true",
        help="read the EC2 API (needs the IAM actions in docs/inventory.md)",
    )
    source.add_argument(
        "--from-json", nargs="+", metavar="FILE", help="AWS CLI JSON files or folders of them"
    )
    parser.add_argument(
        "--taken-at",
        metavar="TIMESTAMP",
        help="when the --from-json files were captured, ISO 8601 UTC (e.g. 2026-11-28T06:00:00Z; "
        "default: now, with a warning)",
    )
    parser.add_argument(
        "--config-history",
        action="store_true",
        help="with --aws: also look up in AWS Config the ENIs of the window's ingested flows that "
        "no snapshot holds, and their security groups (needs --date or --start/--end)",
    )
    _common.add_window_options(parser)
    parser.add_argument(
        "--regions", metavar="R1,R2", help="regions for --aws (default: the session's region)"
    )
    parser.add_argument("--profile", metavar="P", help="AWS profile for --aws")
    parser.add_argument(
        "--endpoint-url", metavar="URL", help="EC2 endpoint for --aws (also $AWS_ENDPOINT_URL)"
    )
    parser.add_argument(
        "--region", metavar="R", help="region to record for --from-json rows that do not name one"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def parse_taken_at(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 instant with an explicit UTC offset (``Z`` or ``+00:00``), not in the future."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--taken-at {text!r} is not an ISO 8601 timestamp; use e.g. 2026-11-28T06:00:00Z"
        ) from None
    if moment.tzinfo is None or "T" not in text.upper():
        raise UsageError(
            f"--taken-at {text!r} needs a time and a UTC offset, e.g. 2026-11-28T06:00:00Z"
        )
    moment = moment.astimezone(UTC)
    if moment > (now or datetime.now(UTC)) + _SKEW:
        raise UsageError(f"--taken-at {text!r} is in the future")
    return moment


def _regions(args: argparse.Namespace, default: str | None) -> list[str]:
    chosen = [r.strip() for r in (args.regions or "").split(",") if r.strip()]
    if not chosen and default:
        chosen = [default]
    if not chosen:
        raise UsageError("--aws needs --regions r1,r2 (no default region is configured)")
    return chosen


def _check(args: argparse.Namespace) -> None:
    if args.from_json and (args.regions or args.profile or args.endpoint_url):
        raise UsageError("--regions/--profile/--endpoint-url go with --aws, not --from-json")
    if args.aws and args.taken_at:
        raise UsageError(
            "--taken-at goes with --from-json; --aws snapshots are stamped with the call time"
        )
    if args.config_history and not args.aws:
        raise UsageError(
            "--config-history goes with --aws; Config history files are given to --from-json"
        )
    window = args.date or args.start or args.end
    if window and not args.config_history:
        raise UsageError("--date/--start/--end name the window for --config-history")
    if args.config_history and not window:
        raise UsageError(
            "--config-history needs the window: --date YYYY-MM-DD, or --start and --end"
        )


def run(args: argparse.Namespace) -> int:
    _check(args)
    from flowlens.catalog import refresh_catalog

    dd = _common.data_dir(args)
    summary, lines = _from_aws(args, dd) if args.aws else _from_json(args, dd)
    refresh_catalog(dd)
    if args.json:
        _common.print_json(summary)
    else:
        print("\n".join(lines))
    return 0


def _from_aws(args: argparse.Namespace, dd: DataDir) -> tuple[dict[str, Any], list[str]]:
    from flowlens.inventory import config_history_from_aws, snapshot_from_aws
    from flowlens.inventory.from_aws import make_session

    days = _common.window_days(args) if args.config_history else []
    session = make_session(args.profile)
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    info = snapshot_from_aws(
        session, _regions(args, session.region_name), dd, endpoint_url=endpoint
    )
    summary, lines = info.to_dict(), _summary_lines(info)
    if args.config_history:
        lookup = config_history_from_aws(session, dd, days, endpoint_url=endpoint)
        summary["config_history"] = lookup.to_dict()
        lines += _lookup_lines(lookup)
    return summary, lines


def _from_json(args: argparse.Namespace, dd: DataDir) -> tuple[dict[str, Any], list[str]]:
    from flowlens.inventory import inventory_from_json

    taken_at = parse_taken_at(args.taken_at) if args.taken_at else None
    snap, history = inventory_from_json(args.from_json, dd, region=args.region, taken_at=taken_at)
    summary: dict[str, Any] = snap.to_dict() if snap else {}
    lines = _summary_lines(snap) if snap else []
    if history:
        summary["config_history_stored"] = history.to_dict()
        lines += _stored_lines(history)
    return summary, lines


def _summary_lines(info: SnapshotInfo) -> list[str]:
    lines = [f"snapshot {info.stamp} ({info.source}; regions: {', '.join(info.regions) or '-'})"]
    width = max(len(name) for name in info.row_counts)
    for name, count in info.row_counts.items():
        note = (
            "  (unchanged: linked)"
            if name in info.reused
            else ""
            if name in info.observed
            else "  (no input)"
        )
        lines.append(f"  {name:<{width}}  {count:>8}{note}")
    return [*lines, f"written to {info.path}"]


def _stored_lines(history: ConfigHistoryInfo) -> list[str]:
    return [
        f"AWS Config history: {history.items} items of {history.resources} resources "
        f"({history.deleted} deletions) stored in {history.path}"
    ]


def _lookup_lines(lookup: ConfigLookup) -> list[str]:
    lines = [
        f"AWS Config history for {lookup.window[0]:%Y-%m-%d %H:%M} .. "
        f"{lookup.window[1]:%Y-%m-%d %H:%M} UTC: {lookup.flow_enis} ENIs in the flows, "
        f"{len(lookup.missing_enis)} held by no snapshot"
    ]
    for e in lookup.missing_enis:
        state = "no history in AWS Config" if e.eni_id in lookup.not_recorded else "looked up"
        lines.append(f"  {e.eni_id}  {e.records:>10} records  {state}")
    if lookup.missing_groups:
        lines.append(
            "  groups of those ENIs held by no snapshot, looked up too: "
            f"{', '.join(lookup.missing_groups)}"
        )
    return lines + (_stored_lines(lookup.stored) if lookup.stored else [])
