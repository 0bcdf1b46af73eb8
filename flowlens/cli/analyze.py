"""``flowlens analyze``: build the results tables for a window of days."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from flowlens.analyze.history import DEFAULT_HISTORY_DAYS
from flowlens.cli import _common
from flowlens.cli.progress import AnalyzeProgress, StatusLine
from flowlens.model.results import DEFAULT_LOOKBACK_DAYS, ENGINE_NAMES

if TYPE_CHECKING:
    from flowlens.engines.base import Engine
from flowlens.errors import UsageError


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "analyze",
        writes=_common.data_dir,
        help="attribute flows to SG rules; rule usage, rejected traffic, findings",
        description="Analyse each UTC day of the window: conversations and their initiators, the "
        "SG rules each accepted connection used, rule usage with status and reason, the cause of "
        "every REJECT, and posture findings. Results go to results/date=<D>/ and the catalog, or "
        "to --results-location; --data-dir may be s3://bucket/prefix (the lake layout).",
        example="flowlens analyze --date 2026-11-28\n"
        "flowlens analyze --start 2026-11-01 --end 2026-11-28 --memory-limit 4GB --json\n"
        "flowlens analyze --date 2026-11-28 --config-only\n"
        "flowlens analyze --date 2026-11-28 --engine spark --spark-master spark://master:7077\n"
        "flowlens analyze --date 2026-11-28 --engine athena --workgroup primary --output-location "
        "s3://my-athena-results/flowlens/\n"
        "flowlens analyze --date 2026-11-28 --engine athena --estimate\n"
        "flowlens analyze --date 2026-11-28 --data-dir s3://my-flow-lake/flowlens",
    )
    _common.add_window_options(p)
    p.add_argument(
        "--memory-limit",
        metavar="SIZE",
        type=_common.memory_size,
        help="DuckDB memory limit, e.g. 4GB; larger work spills to <data-dir>/.tmp",
    )
    p.add_argument(
        "--threads", type=int, metavar="N", help="DuckDB worker threads (default: all cores)"
    )
    p.add_argument(
        "--lookback-days",
        type=int,
        default=DEFAULT_LOOKBACK_DAYS,
        metavar="N",
        help="earlier analysed days that count as usage history (default: "
        f"{DEFAULT_LOOKBACK_DAYS})",
    )
    p.add_argument(
        "--history-days",
        type=int,
        default=DEFAULT_HISTORY_DAYS,
        metavar="N",
        help="days of analysed rule_usage behind rule_history (never_used, stopped, periodic, "
        f"active; default: {DEFAULT_HISTORY_DAYS})",
    )
    p.add_argument(
        "--config-only",
        action="store_true",
        help="no flow logs needed: from the inventory snapshot alone, the rules shadowed by "
        "others (rule_shadows and 'shadowed' findings)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    g = p.add_argument_group("engine (docs/engines.md)")
    g.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default="duckdb",
        help="duckdb (one machine, default), spark (PySpark) or athena (Athena/Trino over the "
        "Glue tables of athena-ddl)",
    )
    g.add_argument(
        "--spark-master", metavar="URL", help="Spark master (default local[N], N = --threads or 2)"
    )
    g.add_argument("--workgroup", default="primary", help="Athena workgroup (default: primary)")
    g.add_argument(
        "--output-location",
        metavar="S3_URI",
        help="Athena query results and work tables, s3://bucket/prefix/",
    )
    g.add_argument(
        "--database",
        default="flowlens",
        help="Glue database of the athena-ddl tables (default: flowlens)",
    )
    g.add_argument(
        "--estimate",
        action="store_true",
        help="with --engine athena: print per step the bytes Athena would scan (Parquet footers, "
        "partition pruning) and their cost, then stop; nothing runs",
    )
    g.add_argument(
        "--price-per-tb",
        type=float,
        default=None,
        metavar="USD",
        help="Athena's price per TB scanned in your region, for --estimate (default: 5.00)",
    )
    _common.add_location_options(g, aws=False)
    g.add_argument("--endpoint-url", help="Athena/S3 endpoint (default $AWS_ENDPOINT_URL)")
    g.add_argument("--profile", help="AWS profile for Athena and S3")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowlens.analyze import analyze

    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be at least 1")
    if args.lookback_days < 0:
        raise UsageError("--lookback-days cannot be negative")
    if args.history_days < 1:
        raise UsageError("--history-days must be at least 1")
    dd, days = _common.data_dir(args), _common.window_days(args)
    if args.estimate or args.price_per_tb is not None:
        return _estimate(args, dd, days)
    engine = _engine(args)
    line = StatusLine.for_args(args)
    try:
        summary = analyze(
            dd,
            days,
            memory_limit=args.memory_limit,
            threads=args.threads,
            lookback_days=args.lookback_days,
            engine=engine,
            history_days=args.history_days,
            config_only=args.config_only,
            progress=AnalyzeProgress(line, len(set(days))) if line.enabled else None,
        )
    finally:
        line.close()
        if not isinstance(engine, str):
            engine.close()
    if args.json:
        _common.print_json(summary.to_dict())
        return 0
    for d in summary.days:
        if args.config_only:
            print(
                f"{d.day}: snapshot {d.snapshot}: {d.findings.get('shadowed', 0)} rules shadowed "
                "by others (configuration only; see rule_shadows)"
            )
            continue
        rules = ", ".join(f"{k} {v}" for k, v in d.rules.items())
        rejected = ", ".join(f"{k} {v}" for k, v in d.rejected.items()) or "none"
        print(
            f"{d.day}: {d.records} records, {d.conversations} conversations; rules: {rules}; "
            f"rejected: {rejected}; {sum(d.findings.values())} findings ({d.seconds:.1f}s)"
        )
    if not args.quiet:
        print('query the results with: flowlens sql "SELECT * FROM rule_usage"', file=sys.stderr)
    return 0


def _estimate(args: argparse.Namespace, dd: Any, days: list[Any]) -> int:
    """``--estimate``: what Athena would scan per step, from the footers; no query runs."""
    from flowlens.engines.estimate import DEFAULT_PRICE_PER_TB, estimate_day, render

    if args.engine != "athena" or not args.estimate:
        raise UsageError("--estimate (and --price-per-tb) go with --engine athena")
    if dd.lake:
        raise UsageError(
            f"--estimate reads the Parquet footers of a local copy of the lake, not {dd.lake}: "
            "pass the local data directory"
        )
    price = DEFAULT_PRICE_PER_TB if args.price_per_tb is None else args.price_per_tb
    estimates = [
        estimate_day(dd, day, lookback_days=args.lookback_days, price_per_tb=price)
        for day in sorted(set(days))
    ]
    if args.json:
        _common.print_json({"days": [e.to_dict() for e in estimates]})
        return 0
    for e in estimates:
        print("\n".join(render(e)))
    if len(estimates) > 1:
        total = sum(e.cost for e in estimates)
        print(f"{len(estimates)} days: ${total:.6f}")
    return 0


def _engine(args: argparse.Namespace) -> Engine | str:
    """The engine the flags ask for; a plain name when analyze() can build it alone."""
    if args.engine == "spark" and args.spark_master:
        from flowlens.engines.spark_engine import SparkEngine

        return SparkEngine.local(
            args.threads or 2,
            memory=args.memory_limit,
            master=args.spark_master,
            scratch=_common.data_dir(args).tmp,  # executors read it: the shared data dir
        )
    if args.engine != "athena":
        return str(args.engine)
    if not args.output_location:
        raise UsageError(
            "--engine athena needs --output-location s3://bucket/prefix/ (query "
            "results and work tables)"
        )
    from flowlens.aws import AwsOptions, client, session
    from flowlens.engines.athena import AthenaEngine

    opts = AwsOptions(profile=args.profile, endpoint_url=args.endpoint_url)
    sess = session(opts)
    return AthenaEngine(
        client(opts, "athena", sess=sess),
        client(opts, "s3", sess=sess),
        database=args.database,
        workgroup=args.workgroup,
        output_location=args.output_location,
    )
