"""FLOW_SUM, the records pass's sums (sql/analyze/10_eni_flows.sql): DuckDB adds without overflow
checks only on a day whose records prove no sum of them can overflow BIGINT; any other day, and
every other engine, gets SUM. Without the guard a day carrying huge byte counts would wrap to a
negative total: the first test is that day."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowlens import sqlfiles
from flowlens.engines.duckdb_engine import BIGINT_MAX, DuckDBEngine, sums_fit
from flowlens.engines.transpile import to_spark, to_trino

DAY = date(2026, 11, 28)
STEP = sqlfiles.load("analyze", "10_eni_flows")


def _record(**over: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "interface_id": "eni-a",
        "srcaddr": "10.0.1.1",  # the lower address: its records are the f_ side
        "dstaddr": "10.0.1.2",
        "pkt_srcaddr": None,
        "pkt_dstaddr": None,
        "srcport": 40000,
        "dstport": 443,
        "protocol": 6,
        "action": "ACCEPT",
        "packets": 10,
        "bytes": 1000,
        "start": 1_795_000_000,
        "end": 1_795_000_030,
        "tcp_flags": 2,
        "flow_direction": "egress",
        "log_status": "OK",
        "date": DAY,
    }
    return {**rec, **over}


def _engine(records: list[dict[str, Any]]) -> tuple[DuckDBEngine, duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.register("flows_arrow", pa.Table.from_pylist(records))
    con.execute("CREATE TABLE flows AS SELECT * FROM flows_arrow")
    eng = DuckDBEngine(con, owned=False)
    eng.fit_sums(DAY)
    return eng, con


#: FLOW_SUM on a day whose sums all fit BIGINT: unchecked, and BIGINT (sum_no_overflow's HUGEINT
#: held twelve 16-byte sums per conversation row, which spilled a 10M-conversation day at 2 GB).
FAST = "CAST(sum_no_overflow(x) AS BIGINT)"


def _bound_to(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "SELECT macro_definition FROM duckdb_functions() WHERE function_name = 'flow_sum'"
    ).fetchone()
    assert row is not None
    return str(row[0])


def _pass(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    cur = con.execute(STEP.sql, {"day": DAY})
    names = [d[0] for d in cur.description]
    (row,) = cur.fetchall()
    return dict(zip(names, row, strict=True))


def test_a_day_whose_bytes_would_overflow_bigint_is_summed_exactly() -> None:
    half = 2**62  # two records of one conversation: 2^63 bytes, one more than BIGINT holds
    _, con = _engine([_record(bytes=half), _record(bytes=half, start=1_795_000_060)])
    assert _bound_to(con) == "sum(x)"
    assert _pass(con)["f_bytes"] == 2**63


def test_an_ordinary_day_sums_without_overflow_checks_and_gets_the_same_answer() -> None:
    records = [_record(bytes=1000 * i, packets=i, start=1_795_000_000 + 60 * i) for i in range(5)]
    _, con = _engine(records)
    assert _bound_to(con) == FAST
    fast = _pass(con)
    con.execute("CREATE OR REPLACE TEMP MACRO flow_sum(x) AS sum(x)")
    assert fast == _pass(con)
    assert fast["f_bytes"] == 10_000 and fast["f_packets"] == 10
    con.execute("CREATE OR REPLACE TEMP MACRO flow_sum(x) AS " + FAST)
    con.execute(f"CREATE TEMP TABLE eni_flows AS {STEP.sql}", {"day": DAY})
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'eni_flows'"
        ).fetchall()
    )
    sums = [c for c in types if c.startswith(("f_", "r_")) and c not in ("f_first", "r_first")]
    assert len(sums) == 12 and {types[c] for c in sums} == {"BIGINT"}


def test_a_negative_count_from_an_old_data_dir_keeps_the_checked_sum() -> None:
    _, con = _engine([_record(packets=-1), _record()])
    assert _bound_to(con) == "sum(x)"


def test_a_day_without_records_cannot_overflow_and_each_day_is_bound_afresh() -> None:
    eng, con = _engine([_record()])
    assert _bound_to(con) == FAST
    eng.fit_sums(date(2026, 11, 29))  # no records: MIN and SUM are NULL, nothing can overflow
    assert _bound_to(con) == FAST
    con.execute(
        "INSERT INTO flows SELECT * REPLACE (2**62 AS bytes, DATE '2026-11-30' AS date) "
        "FROM flows UNION ALL SELECT * REPLACE (2**62 AS bytes, DATE '2026-11-30' AS date) "
        "FROM flows"
    )
    eng.fit_sums(date(2026, 11, 30))
    assert _bound_to(con) == "sum(x)"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=6),
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=6),
)
def test_sums_fit_only_when_every_subset_sum_fits(packets: list[int], bytes_: list[int]) -> None:
    def totals(xs: list[int]) -> tuple[int | None, int | None]:
        return (min(xs), sum(xs)) if xs else (None, None)

    fits = sums_fit((*totals(packets), *totals(bytes_)))
    # a subset's sum is largest (in magnitude) over all positives or all negatives of the column
    worst = [
        max(sum(x for x in xs if x > 0), -sum(x for x in xs if x < 0)) for xs in (packets, bytes_)
    ]
    if fits:
        assert all(w <= BIGINT_MAX for w in worst)
    else:
        assert any(x < 0 for x in packets + bytes_) or any(w > BIGINT_MAX for w in worst)


@pytest.mark.parametrize("render", [to_spark, to_trino])
def test_other_engines_are_given_sum(render: Any) -> None:
    text = render(STEP.sql).sql
    assert "FLOW_SUM" not in text.upper()
    assert text.upper().count("SUM(") == STEP.sql.upper().count("FLOW_SUM(")
