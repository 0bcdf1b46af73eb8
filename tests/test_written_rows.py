"""The day's summary counts ``conversations`` from its write (DuckDB's COPY returns the rows),
not by running the view again; an engine that cannot tell is counted by a query."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from flowlens.analyze.pipeline import _rows
from flowlens.engines.duckdb_engine import DuckDBEngine


def test_the_rows_a_write_returned_are_the_count_and_a_reset_forgets_them(tmp_path: Path) -> None:
    eng = DuckDBEngine(duckdb.connect())
    eng.con.execute("CREATE TEMP VIEW conversations AS SELECT range AS x FROM range(1234)")
    assert eng.written_rows("conversations") is None
    eng.write_parquet("conversations", {"x": pa.int64()}, tmp_path / "c.parquet")
    assert eng.written_rows("conversations") == 1234
    assert _rows(eng, "conversations") == 1234
    eng.con.execute("CREATE OR REPLACE TEMP VIEW conversations AS SELECT 1 AS x")
    assert _rows(eng, "conversations") == 1234  # what was written, not the view now
    eng.reset()
    assert eng.written_rows("conversations") is None
    assert _rows(eng, "conversations") == 1  # counted by a query
