"""``flowlens ingest SOURCE --date D``: flow-log objects → partitioned Parquet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowlens.cli import _common
from flowlens.cli.progress import StatusLine, ingest_bar
from flowlens.errors import ExitCode

if TYPE_CHECKING:
    from flowlens.ingest.pipeline import IngestSummary
    from flowlens.ingest.source import Source


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "ingest",
        writes=_common.data_dir,
        help="read flow-log objects (S3 or a local mirror) into Parquet",
        description="Ingest VPC and Transit Gateway flow logs (gzip text or Parquet, any key "
        "layout) whose record end time falls in the window. Re-running skips objects "
        "already ingested unchanged.",
        example="flowlens ingest s3://my-flow-logs/prefix --date 2026-11-28 --region eu-west-1 "
        "--json\n"
        "flowlens ingest ./mirror --start 2026-11-01 --end 2026-11-07",
    )
    p.add_argument(
        "source",
        metavar="SOURCE",
        help="s3://bucket[/prefix] or a local directory laid out like the bucket",
    )
    _common.add_window_options(p)
    p.add_argument(
        "--account", action="append", metavar="ID", help="only this account (repeatable)"
    )
    p.add_argument(
        "--region",
        action="append",
        metavar="REGION",
        help="only flow logs of this region (repeatable); the first one is "
        "also the S3 client's region",
    )
    p.add_argument(
        "--flow-log-id", action="append", metavar="FL", help="only this flow log (repeatable)"
    )
    p.add_argument("--profile", help="AWS profile for S3")
    p.add_argument("--endpoint-url", help="S3 endpoint (default $AWS_ENDPOINT_URL)")
    p.add_argument(
        "--retry-mode",
        choices=("standard", "adaptive"),
        default="standard",
        help="botocore retry mode",
    )
    p.add_argument("--workers", type=int, default=2, help="objects read in parallel (default 2)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="any malformed line is fatal (default: quarantine it), and so is a window with no "
        "objects (default: a warning saying why, exit 0)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.set_defaults(func=run)


def make_source(args: argparse.Namespace) -> tuple[Source, str]:
    """The source and the destination prefix inside it."""
    from flowlens.ingest.source import LocalSource, S3Source, make_s3_client, split_source

    if args.source.startswith("s3://"):
        bucket, prefix = split_source(args.source)
        client = make_s3_client(
            profile=args.profile,
            region=(args.region or [None])[0],
            endpoint_url=args.endpoint_url,
            retry_mode=args.retry_mode,
            max_pool=max(10, args.workers * 2),
        )
        return S3Source(client, bucket), prefix
    return LocalSource(Path(args.source)), ""


def run(args: argparse.Namespace) -> int:
    days = _common.window_days(args)
    source, prefix = make_source(args)
    line = StatusLine.for_args(args)
    progress = ingest_bar(line) if line.enabled else None
    from flowlens.ingest.pipeline import ingest

    summary = ingest(
        source,
        days,
        _common.data_dir(args),
        prefix=prefix,
        accounts=set(args.account) if args.account else None,
        regions=set(args.region) if args.region else None,
        flow_log_ids=set(args.flow_log_id) if args.flow_log_id else None,
        strict=args.strict,
        workers=args.workers,
        progress=progress,
    )
    line.close()
    if args.json:
        _common.print_json(summary.to_dict())
    else:
        _print_summary(summary)
    for f in summary.failed:
        print(f"flowlens ingest: failed: {f.error}", file=sys.stderr)
    if summary.empty_reason:
        level = "error" if args.strict else "warning"
        print(
            f"flowlens ingest: {level}: no flow-log objects listed for the "
            f"window: {summary.empty_reason}",
            file=sys.stderr,
        )
        if args.strict:
            return int(ExitCode.FAILURE)
    return int(ExitCode.FAILURE if summary.failed else ExitCode.OK)


def _print_summary(s: IngestSummary) -> None:
    print(f"window {s.window_start:%Y-%m-%d %H:%M} .. {s.window_end:%Y-%m-%d %H:%M} UTC")
    print(
        f"objects read {s.objects}, skipped (unchanged) {s.skipped}, replaced {s.replaced}, failed "
        f"{len(s.failed)}, ignored keys {s.ignored_keys}"
    )
    print(
        f"lines {s.lines} = rows {s.rows} + quarantined {s.quarantined} + outside the "
        f"window {s.out_of_window}"
    )
    for reason, n in sorted(s.quarantine_reasons.items(), key=lambda kv: -kv[1]):
        print(f"  quarantined {n}: {reason}")
    print(
        f"{s.bytes / 1e6:.1f} MB in {s.seconds:.2f} s ({s.records_per_s:,.0f} "
        f"records/s), S3 retries {s.retries}"
    )
