"""The inventory timeline: validity intervals from many snapshots (flowlens.inventory.timeline)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from flowlens.inventory.timeline import (
    FAR_FUTURE,
    FAR_PAST,
    TIMELINE_COLUMN_NAMES,
    SnapshotRef,
    SnapshotTables,
    build_timeline,
)
from flowlens.model.inventory import INVENTORY_SCHEMAS

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def t(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def snap(hours: float, **rows: list[dict]) -> SnapshotTables:
    """A snapshot at T0+hours holding the given rows (every other table empty)."""
    moment = t(hours)
    tables = {name: pa.Table.from_pylist(rows.get(name, []), schema=schema) for name, schema in INVENTORY_SCHEMAS.items()}
    return SnapshotTables(SnapshotRef(moment, moment.strftime("%Y%m%dT%H%M%SZ")), tables)


def group(eni: str, sg: str) -> dict:
    return {"eni_id": eni, "group_id": sg, "group_name": sg}


def intervals(table: pa.Table) -> list[tuple]:
    return [(r["eni_id"], r["group_id"], r["valid_from"], r["valid_to"], r["seen_from"], r["seen_to"])
            for r in table.to_pylist()]


def test_unchanged_world_is_the_snapshot_plus_five_columns() -> None:
    a = [group("eni-1", "sg-a")]
    tl = build_timeline([snap(0, eni_groups=a), snap(1, eni_groups=a), snap(2, eni_groups=a)])
    assert intervals(tl.tables["eni_groups"]) == [("eni-1", "sg-a", FAR_PAST, FAR_FUTURE, t(0), t(2))]
    assert tl.tables["eni_groups"].column_names == [*INVENTORY_SCHEMAS["eni_groups"].names, *TIMELINE_COLUMN_NAMES]
    assert tl.latest == tl.snapshots[-1] and tl.latest.taken_at == t(2)


def test_replaced_eni_old_row_possibly_until_the_snapshot_that_misses_it() -> None:
    old, new = [group("eni-old", "sg-a")], [group("eni-new", "sg-a")]
    tl = build_timeline([snap(0, eni_groups=old), snap(12, eni_groups=new)])
    assert intervals(tl.tables["eni_groups"]) == [
        ("eni-old", "sg-a", FAR_PAST, t(12), t(0), t(0)),
        ("eni-new", "sg-a", t(0), FAR_FUTURE, t(12), t(12)),
    ]


def test_row_that_comes_back_gets_two_intervals() -> None:
    a = [group("eni-1", "sg-a")]
    tl = build_timeline([snap(0, eni_groups=a), snap(1), snap(2, eni_groups=a)])
    assert intervals(tl.tables["eni_groups"]) == [
        ("eni-1", "sg-a", FAR_PAST, t(1), t(0), t(0)),
        ("eni-1", "sg-a", t(1), FAR_FUTURE, t(2), t(2)),
    ]


def test_attach_time_narrows_the_eni_and_its_groups() -> None:
    eni = {"eni_id": "eni-new", "vpc_id": "vpc-1", "attach_time": t(5)}
    tl = build_timeline([snap(0), snap(12, enis=[eni], eni_groups=[group("eni-new", "sg-a")])])
    e = tl.tables["enis"].to_pylist()[0]
    assert (e["valid_from"], e["seen_from"], e["seen_to"], e["valid_to"]) == (t(5), t(5), t(12), FAR_FUTURE)
    g = tl.tables["eni_groups"].to_pylist()[0]
    assert (g["valid_from"], g["seen_from"]) == (t(5), t(12))  # groups can change without re-attaching


def test_a_table_missing_from_a_snapshot_is_not_evidence_of_absence() -> None:
    a = [group("eni-1", "sg-a")]
    middle = snap(1)
    del middle.tables["eni_groups"]  # type: ignore[attr-defined]
    tl = build_timeline([snap(0, eni_groups=a), middle, snap(2, eni_groups=a)])
    assert intervals(tl.tables["eni_groups"]) == [("eni-1", "sg-a", FAR_PAST, FAR_FUTURE, t(0), t(2))]
