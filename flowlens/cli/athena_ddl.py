"""``flowlens athena-ddl``: print the Glue/Athena DDL for the data layout in S3."""

from __future__ import annotations

import argparse
from typing import Any

from flowlens.cli import _common
from flowlens.engines.ddl import DEFAULT_REGIONS, DdlOptions, athena_ddl


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "athena-ddl",
        help="print Glue/Athena DDL for flows, inventory and results in S3",
        description="Print CREATE statements (Athena/Hive DDL, one per table, separated by ';') "
        "for flows and tgw_flows with partition projection over account, region and date, the "
        "inventory tables by snapshot and the results tables by date. In S3, inventory and "
        "results live one prefix per table (inventory/<table>/snapshot=<stamp>/, "
        "results/<table>/date=<D>/); see docs/engines.md.",
        example="flowlens athena-ddl --location s3://my-flow-lake/flowlens --database flowlens "
        "--account 123456789012 --account 210987654321 --region us-east-1 --region eu-west-1",
    )
    p.add_argument(
        "--location",
        "--bucket",
        dest="location",
        required=True,
        metavar="S3_URI",
        help="s3://bucket[/prefix] holding flows/, tgw_flows/, inventory/ and results/",
    )
    p.add_argument("--database", default="flowlens", help="Glue database (default: flowlens)")
    p.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="ID",
        help="account id to enumerate in the projection (repeat); none: injected "
        "(queries must name the account)",
    )
    p.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help=f"region to enumerate (repeat; default: {len(DEFAULT_REGIONS)} commercial regions)",
    )
    p.add_argument(
        "--first-date",
        metavar="YYYY-MM-DD",
        default="2020-01-01",
        help="first date of the date projection",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    opts = DdlOptions(
        location=args.location,
        database=args.database,
        accounts=tuple(args.account),
        regions=tuple(args.region) or DEFAULT_REGIONS,
        first_date=_common.parse_day(args.first_date, "--first-date"),
    )
    print(";\n\n".join(athena_ddl(opts)) + ";")
    return 0
