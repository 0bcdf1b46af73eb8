"""Arrays and tables built from buffers (flowlens/arrays.py) equal what pyarrow builds, and the
commands that use them never import pandas."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import SampleDay, fresh_commands
from hypothesis import given
from hypothesis import strategies as st

from flowlens.arrays import (
    column,
    from_numpy,
    ints,
    offsets,
    pylist,
    strings,
    table_from_rows,
    to_mask,
)
from flowlens.inventory.timeline import timeline_schema
from flowlens.model.inventory import INVENTORY_SCHEMAS


def test_arrays_equal_pyarrows_own() -> None:
    for values in (np.array([3, -1, 7], dtype=np.int32), np.arange(5, dtype=np.int64)[::2]):
        assert from_numpy(values).equals(pa.array(values))
    mask = np.array([True, False, True, True, False, False, False, False, True])
    assert from_numpy(mask).equals(pa.array(mask))
    assert ints([1, None, 3], pa.int32()).equals(pa.array([1, None, 3], pa.int32()))
    assert ints([]).equals(pa.array([], pa.int64()))
    assert strings(["a", None, "", "é"]).equals(pa.array(["a", None, "", "é"], pa.string()))
    assert strings([]).equals(pa.array([], pa.string()))
    assert offsets([2, 0, 1]).equals(pa.array([0, 2, 2, 3], pa.int32()))


def test_masks_read_nulls_as_false_and_respect_slices() -> None:
    arr = pa.array([True, None, False, True, True, None, True, False, True, True], pa.bool_())
    expected = [True, False, False, True, True, False, True, False, True, True]
    assert to_mask(arr).tolist() == expected
    assert to_mask(arr.slice(3, 6)).tolist() == expected[3:9]
    chunked = pa.chunked_array([arr.slice(0, 4), arr.slice(7)])
    assert to_mask(chunked).tolist() == expected[:4] + expected[7:]
    assert to_mask(pc.greater(pa.array([1, None, 5]), pa.array([0, 0, 9]))).tolist() == [
        True,
        False,
        False,
    ]
    assert to_mask(pa.chunked_array([], pa.bool_())).tolist() == []


# ---- builders for the model's schemas: equal to pyarrow's own, NULLs and zones included -------

UTC2 = timezone(timedelta(hours=2))
TS_UTC = pa.timestamp("us", tz="UTC")
PYTHON_COLUMNS: list[tuple[pa.DataType, list[Any]]] = [
    (pa.string(), ["a", None, "", "é"]),
    (pa.int8(), [1, None, -3]),
    (pa.int32(), [2**31 - 1, None, -(2**31)]),
    (pa.int64(), [2**63 - 1, None, 0]),
    (pa.bool_(), [True, None, False, True, True, False, True, False, True]),
    (pa.float64(), [1.5, None, -0.0, 1e300]),
    (pa.date32(), [date(2026, 11, 28), None, date(1969, 12, 31)]),
    (
        TS_UTC,
        [
            datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=UTC),
            None,
            datetime(2026, 11, 28, 12, tzinfo=UTC2),  # converted to UTC
            datetime(2026, 11, 28, 12),  # naive: read as UTC, as pyarrow does
            datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        ],
    ),
    (pa.timestamp("s", tz="UTC"), [datetime(2026, 11, 28, 1, 2, 3, tzinfo=UTC), None]),
    (pa.timestamp("ns", tz="UTC"), [datetime(2026, 11, 28, 1, 2, 3, 4, tzinfo=UTC), None]),
    (pa.list_(pa.string()), [["10.0.0.0/16", "10.1.0.0/16"], None, [], ["x", None]]),
    (pa.map_(pa.string(), pa.string()), [{"Name": "web"}, None, [("k", "v"), ("a", "")], {}]),
]


@pytest.mark.parametrize(("type_", "values"), PYTHON_COLUMNS, ids=lambda x: str(x)[:24])
def test_columns_equal_pyarrows_own(type_: pa.DataType, values: list[Any]) -> None:
    built = column(values, type_)
    assert built.validate(full=True) is None
    assert built.equals(pa.array(values, type_))
    assert pylist(built) == pa.array(values, type_).to_pylist()


def test_a_type_without_a_builder_is_an_error_not_a_fallback() -> None:
    with pytest.raises(TypeError, match="no builder for decimal128"):
        column([1], pa.decimal128(5, 2))


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.datetimes(
                min_value=datetime(1900, 1, 1),
                max_value=datetime(2200, 1, 1),
                timezones=st.sampled_from([UTC, UTC2, timezone(timedelta(hours=-9, minutes=-30))]),
            ),
        ),
        max_size=20,
    )
)
def test_timestamps_round_trip_exactly(values: list[datetime | None]) -> None:
    built = column(values, TS_UTC)
    assert built.equals(pa.array(values, TS_UTC))
    assert pylist(built) == values  # equal instants, whatever the zone they were given in


def test_tables_equal_from_pylist_for_every_timeline_schema() -> None:
    """Every inventory table's timeline schema, rows with every column set and with none: the
    timeline builds its tables with table_from_rows (flowlens/inventory/timeline.py)."""
    samples = {t: v for t, v in PYTHON_COLUMNS}
    for name in INVENTORY_SCHEMAS:
        schema = timeline_schema(name)
        full = {f.name: samples[f.type][0] for f in schema if f.type in samples}
        assert len(full) == len(schema.names), f"{name}: a column type the samples lack"
        rows = [full, {}, {f.name: samples[f.type][-1] for f in schema}]
        assert table_from_rows(rows, schema).equals(pa.Table.from_pylist(rows, schema=schema))
        assert (
            pylist(table_from_rows(rows, schema))
            == pa.Table.from_pylist(rows, schema=schema).to_pylist()
        )


def test_an_analysis_and_a_recommendation_never_import_pandas(
    sample_day: SampleDay, tmp_path: Path
) -> None:
    """pyarrow imports pandas (0.25-0.35 CPU-s of a command's start-up) at the first
    ``pa.array``/``pa.table``/``Table.from_pylist`` of Python values and the first datetime it
    reads from a time-zoned timestamp; the analysis and the recommender build and read their
    Arrow tables through flowlens/arrays.py. Run in a fresh interpreter, on a copy of the sample
    day (re-analysed: the timeline, epochs, address keys, shadows and history all built)."""
    data = tmp_path / "data"
    shutil.copytree(sample_day.data.root, data)
    day = sample_day.expected["window"]["start"][:10]
    d, out = str(data), str(tmp_path / "plan.json")
    analyze = ["analyze", "--data-dir", d, "--date", day, "-q"]
    recommend = ["recommend", "--data-dir", d, "--date", day, "-q", "--out", out]
    assert fresh_commands(analyze, recommend) == ([0, 0], False)
    assert (tmp_path / "plan.json").stat().st_size > 0
