"""Glue/Athena DDL for the data-directory layout in S3: flows with partition projection,
inventory tables by snapshot and results tables by date.

Athena reads a table from a folder, never from one file name among others, so in S3 the
inventory and results are kept one prefix per table (:func:`lake_key` maps a data-dir path to
its key): ``inventory/<table>/snapshot=<stamp>/<table>.parquet`` and
``results/<table>/date=<D>/<table>.parquet``. ``flows/`` and ``tgw_flows/`` are unchanged.
Pure text: no boto3.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from flowlens.errors import UsageError
from flowlens.model.flow import FLOW_FILE_SCHEMA, TGW_FILE_SCHEMA
from flowlens.model.inventory import INVENTORY_SCHEMAS
from flowlens.model.results import RESULT_SCHEMAS
from flowlens.model.tables import hive_type

__all__ = ["DdlOptions", "athena_ddl", "create_table", "hive_type", "lake_key"]

#: Regions offered to the region projection when none are given (commercial partition).
DEFAULT_REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-east-1",
    "me-south-1",
    "me-central-1",
    "af-south-1",
    "il-central-1",
)
_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_LAKE_RE = re.compile(r"^(inventory/snapshot=[^/]+|results/date=[^/]+)/([a-z_]+)\.parquet$")


@dataclass(frozen=True)
class DdlOptions:
    """Where the data sits and what the partition projection enumerates."""

    location: str  # s3://bucket[/prefix]
    database: str = "flowlens"
    accounts: tuple[str, ...] = ()  # empty: injected projection (queries must name the account)
    regions: tuple[str, ...] = DEFAULT_REGIONS
    first_date: date = date(2020, 1, 1)

    def root(self) -> str:
        if not self.location.startswith("s3://") or len(self.location) <= len("s3://"):
            raise UsageError(f"--location must be s3://bucket[/prefix], not {self.location!r}")
        return self.location.rstrip("/")


def lake_key(relative: str) -> str:
    """The S3 key (under the location) of a data-dir file, in the one-prefix-per-table layout.

    >>> lake_key("results/date=2026-11-28/rule_usage.parquet")
    'results/rule_usage/date=2026-11-28/rule_usage.parquet'
    >>> lake_key("flows/account_id=1/region=r/date=2026-11-28/a.parquet")
    'flows/account_id=1/region=r/date=2026-11-28/a.parquet'
    """
    m = _LAKE_RE.match(relative)
    if not m:
        return relative
    stage, part = m.group(1).split("/", 1)
    return f"{stage}/{m.group(2)}/{part}/{m.group(2)}.parquet"


def athena_ddl(opts: DdlOptions) -> list[str]:
    """Every CREATE statement, in order: database, flows, tgw_flows, inventory, results."""
    for acct in opts.accounts:
        if not _ACCOUNT_RE.match(acct):
            raise UsageError(f"--account {acct!r} is not a 12-digit AWS account id")
    stmts = [f"CREATE DATABASE IF NOT EXISTS `{_name(opts.database)}`"]
    stmts += [
        _flows_table(opts, "flows", FLOW_FILE_SCHEMA),
        _flows_table(opts, "tgw_flows", TGW_FILE_SCHEMA),
    ]
    stmts += [_inventory_table(opts, t, s) for t, s in INVENTORY_SCHEMAS.items()]
    stmts += [_results_table(opts, t, s) for t, s in RESULT_SCHEMAS.items()]
    return stmts


def create_table(
    database: str,
    table: str,
    schema: pa.Schema,
    location: str,
    *,
    partitions: Sequence[tuple[str, str]] = (),
    properties: dict[str, str] | None = None,
) -> str:
    """A ``CREATE EXTERNAL TABLE ... STORED AS PARQUET`` statement."""
    cols = ",\n".join(
        f"  `{f.name}` {hive_type(f.type)}" for f in schema if f.name not in dict(partitions)
    )
    text = f"CREATE EXTERNAL TABLE IF NOT EXISTS `{_name(database)}`.`{_name(table)}` (\n{cols}\n)"
    if partitions:
        text += "\nPARTITIONED BY (" + ", ".join(f"`{n}` {t}" for n, t in partitions) + ")"
    text += f"\nSTORED AS PARQUET\nLOCATION {_quote(location.rstrip('/') + '/')}"
    if properties:
        text += (
            "\nTBLPROPERTIES (\n"
            + ",\n".join(f"  {_quote(k)}={_quote(v)}" for k, v in properties.items())
            + "\n)"
        )
    return text


def _flows_table(opts: DdlOptions, table: str, schema: pa.Schema) -> str:
    loc = f"{opts.root()}/{table}"
    props = {"projection.enabled": "true"}
    if opts.accounts:
        props |= {
            "projection.account_id.type": "enum",
            "projection.account_id.values": ",".join(opts.accounts),
        }
    else:
        props["projection.account_id.type"] = "injected"
    props |= {
        "projection.region.type": "enum",
        "projection.region.values": ",".join(opts.regions),
        "projection.date.type": "date",
        "projection.date.format": "yyyy-MM-dd",
        "projection.date.range": f"{opts.first_date.isoformat()},NOW",
        "projection.date.interval": "1",
        "projection.date.interval.unit": "DAYS",
        "storage.location.template": loc
        + "/account_id=${account_id}/region=${region}/date=${date}/",
    }
    parts = [("account_id", "string"), ("region", "string"), ("date", "date")]
    return create_table(opts.database, table, schema, loc, partitions=parts, properties=props)


def _inventory_table(opts: DdlOptions, table: str, schema: pa.Schema) -> str:
    loc = f"{opts.root()}/inventory/{table}"
    props = {
        "projection.enabled": "true",
        "projection.snapshot.type": "injected",
        "storage.location.template": loc + "/snapshot=${snapshot}/",
    }
    return create_table(
        opts.database, table, schema, loc, partitions=[("snapshot", "string")], properties=props
    )


def _results_table(opts: DdlOptions, table: str, schema: pa.Schema) -> str:
    loc = f"{opts.root()}/results/{table}"
    props = {
        "projection.enabled": "true",
        "projection.date.type": "date",
        "projection.date.format": "yyyy-MM-dd",
        "projection.date.range": f"{opts.first_date.isoformat()},NOW",
        "projection.date.interval": "1",
        "projection.date.interval.unit": "DAYS",
        "storage.location.template": loc + "/date=${date}/",
    }
    return create_table(
        opts.database, table, schema, loc, partitions=[("date", "date")], properties=props
    )


def _name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise UsageError(f"{name!r} is not a valid Glue name (lower-case letters, digits and _)")
    return name


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
