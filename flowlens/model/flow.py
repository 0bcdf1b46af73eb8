"""The one schema of a flow record (docs/tables.md#flows, docs/flow-logs.md#fields,
docs/flow-logs.md#parquet-delivery).

Field names in log formats use hyphens (``log-status``); columns use AWS's Parquet names
(``log_status``). Types are AWS's Parquet types. Fields a format does not carry are NULL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class FlowField:
    """One known flow-log field: its name in a log format, its column, type and version."""

    name: str  # as in ``${name}`` and in the S3 header line
    column: str  # AWS Parquet column name
    type: pa.DataType
    version: int


def _f(name: str, type_: pa.DataType, version: int) -> FlowField:
    return FlowField(name, name.replace("-", "_"), type_, version)


_S, _I32, _I64 = pa.string(), pa.int32(), pa.int64()

#: VPC flow-log fields, versions 2-8, in AWS's table order.
VPC_FIELDS: tuple[FlowField, ...] = (
    _f("version", _I32, 2),
    _f("account-id", _S, 2),
    _f("interface-id", _S, 2),
    _f("srcaddr", _S, 2),
    _f("dstaddr", _S, 2),
    _f("srcport", _I32, 2),
    _f("dstport", _I32, 2),
    _f("protocol", _I32, 2),
    _f("packets", _I64, 2),
    _f("bytes", _I64, 2),
    _f("start", _I64, 2),
    _f("end", _I64, 2),
    _f("action", _S, 2),
    _f("log-status", _S, 2),
    _f("vpc-id", _S, 3),
    _f("subnet-id", _S, 3),
    _f("instance-id", _S, 3),
    _f("tcp-flags", _I32, 3),
    _f("type", _S, 3),
    _f("pkt-srcaddr", _S, 3),
    _f("pkt-dstaddr", _S, 3),
    _f("region", _S, 4),
    _f("az-id", _S, 4),
    _f("sublocation-type", _S, 4),
    _f("sublocation-id", _S, 4),
    _f("pkt-src-aws-service", _S, 5),
    _f("pkt-dst-aws-service", _S, 5),
    _f("flow-direction", _S, 5),
    _f("traffic-path", _I32, 5),
    _f("ecs-cluster-arn", _S, 7),
    _f("ecs-cluster-name", _S, 7),
    _f("ecs-container-instance-arn", _S, 7),
    _f("ecs-container-instance-id", _S, 7),
    _f("ecs-container-id", _S, 7),
    _f("ecs-second-container-id", _S, 7),
    _f("ecs-service-name", _S, 7),
    _f("ecs-task-definition-arn", _S, 7),
    _f("ecs-task-arn", _S, 7),
    _f("ecs-task-id", _S, 7),
    _f("reject-reason", _S, 8),
)

#: Transit Gateway flow-log fields (the "v6" family, docs/flow-logs.md#transit-gateway-flow-logs);
#: TGW records have no action.
TGW_FIELDS: tuple[FlowField, ...] = (
    _f("version", _I32, 6),
    _f("resource-type", _S, 6),
    _f("account-id", _S, 6),
    _f("tgw-id", _S, 6),
    _f("tgw-attachment-id", _S, 6),
    _f("tgw-src-vpc-account-id", _S, 6),
    _f("tgw-dst-vpc-account-id", _S, 6),
    _f("tgw-src-vpc-id", _S, 6),
    _f("tgw-dst-vpc-id", _S, 6),
    _f("tgw-src-subnet-id", _S, 6),
    _f("tgw-dst-subnet-id", _S, 6),
    _f("tgw-src-eni", _S, 6),
    _f("tgw-dst-eni", _S, 6),
    _f("tgw-src-az-id", _S, 6),
    _f("tgw-dst-az-id", _S, 6),
    _f("tgw-pair-attachment-id", _S, 6),
    _f("srcaddr", _S, 6),
    _f("dstaddr", _S, 6),
    _f("srcport", _I32, 6),
    _f("dstport", _I32, 6),
    _f("protocol", _I32, 6),
    _f("packets", _I64, 6),
    _f("bytes", _I64, 6),
    _f("start", _I64, 6),
    _f("end", _I64, 6),
    _f("log-status", _S, 6),
    _f("type", _S, 6),
    _f("packets-lost-no-route", _I64, 6),
    _f("packets-lost-blackhole", _I64, 6),
    _f("packets-lost-mtu-exceeded", _I64, 6),
    _f("packets-lost-ttl-expired", _I64, 6),
    _f("tcp-flags", _I32, 6),
    _f("region", _S, 6),
    _f("flow-direction", _S, 6),
    _f("pkt-src-aws-service", _S, 6),
    _f("pkt-dst-aws-service", _S, 6),
)

#: Header tokens that only Transit Gateway flow logs carry: their presence
#: routes a file to tgw_flows.
TGW_MARKERS = frozenset({"resource-type", "tgw-id", "tgw-attachment-id"})

#: Provenance columns added by ingest.
PROVENANCE: tuple[pa.Field, ...] = (
    pa.field("source_key", _S),  # the S3 key (or local relative path) the record came from
    pa.field("flow_log_id", _S),  # from the object name; NULL when the name carries none
)

#: Fields that no known version defines are kept here, name → raw string, never dropped.
EXTRA = pa.field("extra", pa.map_(_S, _S))

#: Hive partition columns. They live in the path, not inside the Parquet files
#: (Athena forbids a partition column that is also a data column).
FLOW_PARTITIONS: tuple[str, ...] = ("account_id", "region", "date")
TGW_PARTITIONS: tuple[str, ...] = ("account_id", "region", "date")

VPC_BY_NAME = {f.name: f for f in VPC_FIELDS}
TGW_BY_NAME = {f.name: f for f in TGW_FIELDS}


def _schema(fields: tuple[FlowField, ...], partitions: tuple[str, ...]) -> pa.Schema:
    cols = [pa.field(f.column, f.type) for f in fields if f.column not in partitions]
    return pa.schema([*cols, *PROVENANCE, EXTRA])


#: Schema of every Parquet file under ``flows/`` (partition columns excluded).
FLOW_FILE_SCHEMA = _schema(VPC_FIELDS, FLOW_PARTITIONS)
#: Schema of every Parquet file under ``tgw_flows/``.
TGW_FILE_SCHEMA = _schema(TGW_FIELDS, TGW_PARTITIONS)

#: The default (v2) format, as describe-flow-logs prints it.
DEFAULT_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
    "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
)


def format_fields(log_format: str) -> list[str]:
    """Field names of a ``LogFormat`` string (``${a} ${b}``) or of an S3 header line (``a b``).

    >>> format_fields("${version} ${account-id}")
    ['version', 'account-id']
    >>> format_fields("version account-id")
    ['version', 'account-id']
    """
    return [tok.strip().removeprefix("${").removesuffix("}") for tok in log_format.split()]
