"""Ad-hoc read-only SQL over the catalog (``flowlens sql``): run a
checked query, render its rows."""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from time import perf_counter
from typing import Any

import duckdb

from flowlens.errors import AnalysisError, UsageError
from flowlens.sqlguard import check_read_only, is_refusal
from flowlens.textsafe import show_controls

__all__ = ["FORMATS", "QueryCancelled", "Result", "check_read_only", "render", "run"]

FORMATS = ("table", "csv", "json", "line")


class QueryCancelled(AnalysisError):
    """The query was interrupted (Ctrl-C at the prompt) before it finished."""


@dataclass(frozen=True)
class Result:
    """What one query returned: ``rows`` holds at most the row limit, ``total`` counts them all."""

    names: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    total: int
    seconds: float

    @property
    def more(self) -> int:
        """Rows the query returned beyond those kept in ``rows``."""
        return self.total - len(self.rows)


def run(con: duckdb.DuckDBPyConnection, sql: str, *, max_rows: int | None = None) -> Result:
    """Check ``sql`` is read-only (:func:`flowlens.sqlguard.check_read_only`), run
    it, keep ``max_rows`` rows.

    A refusal (a statement that could change something, a file outside the data directory, a
    locked setting) is a ``UsageError`` (exit 2); any other DuckDB error is an ``AnalysisError``.
    """
    if max_rows is not None and max_rows < 1:
        raise UsageError(f"the row limit must be at least 1 (got {max_rows})")
    check_read_only(sql)
    started = perf_counter()
    try:
        cur = con.execute(sql)
        names = tuple(d[0] for d in cur.description) if cur.description else ()
        if max_rows is None:
            rows = cur.fetchall()
            total = len(rows)
        else:
            rows = cur.fetchmany(max_rows)
            total = len(rows) + (_count_rest(cur) if len(rows) == max_rows else 0)
    except duckdb.InterruptException as exc:
        raise QueryCancelled("query cancelled") from exc
    except duckdb.Error as exc:
        if is_refusal(exc):
            raise UsageError(
                f"refused: {exc}; flowlens sql reads only the data directory and cannot change "
                "settings"
            ) from exc
        raise AnalysisError(f"query failed: {exc}") from exc
    return Result(names, [tuple(r) for r in rows], total, perf_counter() - started)


def _count_rest(cur: duckdb.DuckDBPyConnection) -> int:
    # count the rows past the limit in Arrow batches, without turning each into Python objects
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Arrow output on a DB-API result makes an extra copy"
        reader = cur.to_arrow_reader(100_000)
    return sum(batch.num_rows for batch in reader) if reader is not None else 0


def render(
    names: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, *, total: int | None = None
) -> str:
    """``rows`` in ``fmt``; the table's footer counts ``total`` rows when only some are shown."""
    if fmt == "line":
        return _lines(names, rows)
    if fmt == "json":
        return json.dumps(
            [{n: _json_value(v) for n, v in zip(names, r, strict=True)} for r in rows], indent=1
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([[_text(v) for v in r] for r in rows])
        return buf.getvalue().rstrip("\n")
    return _table(names, rows, len(rows) if total is None else total)


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


def _shown(v: Any) -> str:
    """A value for the terminal: control and bidi characters (escape
    sequences, U+202E) as escapes."""
    return show_controls(_text(v))


def _lines(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """One ``column = value`` line per column, a blank line between rows
    (DuckDB's ``.mode line``)."""
    width = max((len(n) for n in names), default=0)
    return "\n\n".join(
        "\n".join(
            f"{show_controls(n).rjust(width)} = {_shown(v)}" for n, v in zip(names, r, strict=True)
        )
        for r in rows
    )


def _table(names: Sequence[str], rows: Sequence[Sequence[Any]], total: int) -> str:
    cells = [[show_controls(n) for n in names]] + [[_shown(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(names))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    shown = f"{len(rows):,} of " if total != len(rows) else ""
    lines.append(f"({shown}{total:,} row{'s' if total != 1 else ''})")
    return "\n".join(lines)
