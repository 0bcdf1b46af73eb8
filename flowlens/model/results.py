"""Enums and Arrow schemas of the analysis results (design.md §4).

Results live in ``results/date=<YYYY-MM-DD>/<table>.parquet``; the catalog exposes each table
across all analysed days, with the ``date`` partition column.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa

S, I32, I64, B, F64 = pa.string(), pa.int32(), pa.int64(), pa.bool_(), pa.float64()
TS = pa.timestamp("us", tz="UTC")


class Direction(StrEnum):
    INGRESS = "ingress"
    EGRESS = "egress"


class RuleStatus(StrEnum):
    USED = "used"
    UNUSED = "unused"
    UNOBSERVABLE = "unobservable"
    NO_COVERAGE = "no_coverage"
    NO_MEMBERS = "no_members"


class RejectCause(StrEnum):
    NACL = "nacl"
    SG = "sg"
    BPA = "bpa"
    LATE_PACKET = "late_packet"
    UNKNOWN = "unknown"


def _schema(*cols: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in cols])


RESULT_SCHEMAS: dict[str, pa.Schema] = {
    "rule_usage": _schema(
        ("rule_id", S), ("group_id", S), ("direction", S), ("status", S), ("flows", I64),
        ("connections", I64), ("sole_flows", I64), ("packets", I64), ("bytes", I64), ("peers", I64),
        ("ports", I64), ("first_seen", TS), ("last_seen", TS), ("window_start", TS), ("window_end", TS),
        ("status_reason", S),
    ),
    "conversations": _schema(
        ("eni_id", S), ("protocol", I32), ("initiator_addr", S), ("initiator_port", I32),
        ("responder_addr", S), ("responder_port", I32), ("eni_role", S), ("decided_by", S),
        ("confidence", S), ("flows", I64), ("packets", I64), ("bytes", I64), ("accepted", B),
        ("first_seen", TS), ("last_seen", TS),
    ),
    "rejected": _schema(("cause", S), ("cause_detail", S)),  # plus every flow column
    "findings": _schema(
        ("finding_id", S), ("kind", S), ("severity", S), ("resource_id", S), ("group_id", S),
        ("rule_id", S), ("title", S), ("detail", S), ("evidence", S),
    ),
    "recommendations": _schema(
        ("rule_id", S), ("group_id", S), ("action", S), ("proposed", S), ("evidence", S), ("risk", S),
    ),
}

RESULT_TABLES: tuple[str, ...] = tuple(RESULT_SCHEMAS)
