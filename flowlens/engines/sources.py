"""The inputs of one analysed window, described independently of any engine."""

from __future__ import annotations

import pyarrow as pa

from flowlens.datadir import DataDir
from flowlens.engines.base import ParquetSource
from flowlens.model.flow import FLOW_FILE_SCHEMA, TGW_FILE_SCHEMA
from flowlens.model.results import RESULT_SCHEMAS

FLOW_PARTITION_TYPES: dict[str, pa.DataType] = {"account_id": pa.string(), "region": pa.string(), "date": pa.date32()}
RESULT_PARTITION_TYPES: dict[str, pa.DataType] = {"date": pa.date32()}

#: Earlier days' results the analysis reads, registered as ``prior_<table>``.
PRIOR_RESULTS: tuple[str, ...] = ("conversations", "rule_usage")


def analysis_sources(dd: DataDir) -> list[ParquetSource]:
    """Flows and the prior results, as the queries name them.

    The inventory is not read from one snapshot's files: the analysis registers the day's rows of
    the timeline built from every snapshot around the window (flowlens.analyze.epochs).
    """
    sources = [
        ParquetSource("flows", dd.flows, "*/*/*/*.parquet", FLOW_FILE_SCHEMA, FLOW_PARTITION_TYPES, "flows"),
        ParquetSource("tgw_flows", dd.tgw_flows, "*/*/*/*.parquet", TGW_FILE_SCHEMA, FLOW_PARTITION_TYPES, "tgw_flows"),
    ]
    for table in PRIOR_RESULTS:
        sources.append(ParquetSource(
            f"prior_{table}", dd.results, f"date=*/{table}.parquet", RESULT_SCHEMAS[table], RESULT_PARTITION_TYPES, table,
        ))
    return sources
