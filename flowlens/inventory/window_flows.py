"""Which ENIs the ingested flows of a window are on (the I/O edge ``--config-history`` needs).

Reads only the ``interface_id`` column of ``flows/account_id=*/region=*/date=<D>/*.parquet`` for the
window's days; the region comes from the partition, so Config is asked in the right region.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow.compute as pc
import pyarrow.parquet as pq

from flowlens.datadir import DataDir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlowEni:
    """An ENI the window's flow records are on: its region(s) and record count."""

    eni_id: str
    regions: tuple[str, ...]
    records: int


def window_enis(dd: DataDir, days: Sequence[date]) -> dict[str, FlowEni]:
    """ENI id → where and how many records, over the ingested flows of ``days``."""
    counts: dict[str, int] = {}
    regions: dict[str, set[str]] = {}
    for day in days:
        for path in sorted(
            dd.flows.glob(f"account_id=*/region=*/date={day.isoformat()}/*.parquet")
        ):
            if path.name.startswith("."):
                continue
            region = path.parent.parent.name.removeprefix("region=")
            column = pq.read_table(path, columns=["interface_id"]).column("interface_id")
            for entry in pc.value_counts(column.drop_null()).to_pylist():
                eni = str(entry["values"])
                if not eni.startswith("eni-"):
                    continue
                counts[eni] = counts.get(eni, 0) + int(entry["counts"])
                regions.setdefault(eni, set()).add(region)
    return {e: FlowEni(e, tuple(sorted(regions[e])), n) for e, n in counts.items()}
