"""The flows writer: dictionary-typed provenance in memory, the plain file schema on disk."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from flowlens.ingest.writer import PartitionWriter, memory_schema
from flowlens.model.flow import FLOW_FILE_SCHEMA


def _rows(keys: list[str], owner: list[int], port: int) -> pa.Table:
    """Rows in the writer's schema: provenance as dictionary arrays over ``keys``."""
    schema = memory_schema(FLOW_FILE_SCHEMA)
    n = len(owner)
    cols = []
    for f in schema:
        if f.name in ("source_key", "flow_log_id"):
            values = keys if f.name == "source_key" else [k.split("/")[0] for k in keys]
            cols.append(pa.DictionaryArray.from_arrays(pa.array(owner, pa.int32()), values))
        elif f.name == "dstport":
            cols.append(pa.array([port] * n, pa.int32()))
        else:
            cols.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def test_files_read_back_in_the_plain_file_schema(tmp_path: Path) -> None:
    w = PartitionWriter(
        tmp_path / "flows",
        tmp_path,
        memory_schema(FLOW_FILE_SCHEMA),
        ("account_id", "region", "date"),
        "run1",
    )
    part = ("123456789012", "eu-west-1", "2026-11-28")
    # Three buffered tables, each with its own dictionary: one row group, one dictionary.
    w.add(part, _rows(["fl-a/k1", "fl-a/k2"], [0, 1, 1], 22), {"fl-a/k1", "fl-a/k2"})
    w.add(part, _rows(["fl-b/k3"], [0, 0], 443), {"fl-b/k3"})
    w.add(part, _rows(["fl-a/k2", "fl-b/k4"], [1, 0], 80), {"fl-a/k2", "fl-b/k4"})
    files = w.close()
    assert sorted(files) == ["fl-a/k1", "fl-a/k2", "fl-b/k3", "fl-b/k4"]
    path = tmp_path / files["fl-a/k1"][0]
    assert pq.read_schema(path).equals(FLOW_FILE_SCHEMA)  # strings, not dictionaries
    table = pq.ParquetFile(path).read()
    assert table.schema.equals(FLOW_FILE_SCHEMA)
    assert table.column("source_key").to_pylist() == [
        "fl-a/k1",
        "fl-a/k2",
        "fl-a/k2",
        "fl-b/k3",
        "fl-b/k3",
        "fl-b/k4",
        "fl-a/k2",
    ]
    assert table.column("flow_log_id").to_pylist()[3:] == ["fl-b", "fl-b", "fl-b", "fl-a"]
    assert table.column("dstport").to_pylist() == [22, 22, 22, 443, 443, 80, 80]
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 1
    names = [meta.row_group(0).column(i).path_in_schema for i in range(meta.num_columns)]
    assert meta.row_group(0).column(names.index("source_key")).has_dictionary_page
    got = duckdb.sql(f"DESCRIBE SELECT source_key, flow_log_id FROM '{path}'").fetchall()
    assert [(r[0], r[1]) for r in got] == [("source_key", "VARCHAR"), ("flow_log_id", "VARCHAR")]


def test_dropping_a_failed_objects_rows_keeps_the_schema(tmp_path: Path) -> None:
    w = PartitionWriter(
        tmp_path / "flows", tmp_path, memory_schema(FLOW_FILE_SCHEMA), ("date",), "run2"
    )
    w.add(("2026-11-28",), _rows(["fl-a/k1", "fl-a/k2"], [0, 1, 0], 22), {"fl-a/k1", "fl-a/k2"})
    files = w.close(drop_keys={"fl-a/k2"})
    assert list(files) == ["fl-a/k1"]
    table = pq.ParquetFile(tmp_path / files["fl-a/k1"][0]).read()
    assert table.schema.equals(FLOW_FILE_SCHEMA)
    assert table.column("source_key").to_pylist() == ["fl-a/k1", "fl-a/k1"]
