"""Arrays built from buffers (flowlens/arrays.py) equal what ``pa.array`` builds."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flowlens.arrays import from_numpy, ints, offsets, strings, to_mask


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
