"""Ad-hoc read-only SQL over the catalog (``flowlens sql``): statement checks and output formats."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from flowlens.errors import AnalysisError, UsageError

FORMATS = ("table", "csv", "json")
_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def check_read_only(sql: str) -> None:
    """Refuse anything but one SELECT/WITH/SHOW/DESCRIBE/EXPLAIN or ``PRAGMA table_info``."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise UsageError(f"cannot parse the query: {exc}") from exc
    if len(statements) != 1:
        raise UsageError(f"give exactly one statement (got {len(statements)}); flowlens sql is read-only")
    st = statements[0]
    if st.type in _ALLOWED:
        return
    if st.type == duckdb.StatementType.PRAGMA and sql.strip().lower().startswith("pragma table_info"):
        return
    kind = str(st.type).split(".")[-1]
    raise UsageError(
        f"flowlens sql is read-only: {kind} statements are refused; use SELECT, WITH, SHOW, DESCRIBE, "
        "EXPLAIN or PRAGMA table_info"
    )


def run(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    check_read_only(sql)
    try:
        cur = con.execute(sql)
    except duckdb.Error as exc:
        raise AnalysisError(f"query failed: {exc}") from exc
    names = [d[0] for d in cur.description] if cur.description else []
    return names, cur.fetchall()


def render(names: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([{n: _json_value(v) for n, v in zip(names, r, strict=True)} for r in rows], indent=1)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([[_text(v) for v in r] for r in rows])
        return buf.getvalue().rstrip("\n")
    return _table(names, rows)


def _json_value(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return v.total_seconds()
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_value(x) for x in v]
    if isinstance(v, bytes | bytearray):
        return v.hex()
    return str(v)


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    return str(v)


def _table(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [list(names)] + [[_text(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(names))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)
