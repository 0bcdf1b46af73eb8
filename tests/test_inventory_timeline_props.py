"""Property tests of the interval maths of flowlens.inventory.timeline (and Config history)."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens.inventory.config_history import config_rows, parse_items
from flowlens.inventory.timeline import (
    FAR_FUTURE,
    FAR_PAST,
    Interval,
    SnapshotRef,
    SnapshotTables,
    Timeline,
    build_timeline,
    narrow,
)
from flowlens.model.inventory import INVENTORY_SCHEMAS

T0 = datetime(2026, 11, 1, tzinfo=UTC)
UNIVERSE = [
    {"eni_id": f"eni-{e}", "group_id": f"sg-{g}", "group_name": f"sg-{g}"}
    for e in "abc"
    for g in "xy"
]


def _key(row: dict) -> tuple[str, str]:
    return (row["eni_id"], row["group_id"])


@st.composite
def worlds(draw: st.DrawFn) -> list[tuple[datetime, list[dict] | None]]:
    """1..6 snapshots at increasing times, each holding a subset of UNIVERSE
    (None: no eni_groups table)."""
    n = draw(st.integers(1, 6))
    gaps = draw(st.lists(st.integers(1, 48 * 60), min_size=n, max_size=n))
    out: list[tuple[datetime, list[dict] | None]] = []
    moment = T0
    for gap in gaps:
        moment += timedelta(minutes=gap)
        missing = draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())  # rare
        subset = [r for r in UNIVERSE if draw(st.booleans())]
        out.append((moment, None if missing else subset))
    return out


def _snapshots(world: list[tuple[datetime, list[dict] | None]]) -> list[SnapshotTables]:
    snaps = []
    for moment, rows in world:
        tables = {name: pa.Table.from_pylist([], schema=s) for name, s in INVENTORY_SCHEMAS.items()}
        if rows is None:
            del tables["eni_groups"]
        else:
            tables["eni_groups"] = pa.Table.from_pylist(
                rows, schema=INVENTORY_SCHEMAS["eni_groups"]
            )
        snaps.append(SnapshotTables(SnapshotRef(moment, moment.strftime("%Y%m%dT%H%M%SZ")), tables))
    return snaps


def _rows(tl: Timeline) -> list[dict]:
    return tl.tables["eni_groups"].to_pylist()


def _observed(
    world: list[tuple[datetime, list[dict] | None]],
) -> list[tuple[datetime, set[tuple[str, str]]]]:
    return [(m, {_key(r) for r in rows}) for m, rows in world if rows is not None]


@given(worlds())
@settings(max_examples=80, deadline=None)
def test_seen_lies_inside_valid_and_intervals_are_never_empty(world: list) -> None:
    for r in _rows(build_timeline(_snapshots(world))):
        assert r["valid_from"] <= r["seen_from"] <= r["seen_to"] < r["valid_to"] or (
            r["seen_to"] == r["valid_to"] == FAR_FUTURE
        ), r
        assert r["source"] == "snapshot"


@given(worlds())
@settings(max_examples=80, deadline=None)
def test_a_row_in_every_observing_snapshot_is_one_row_from_far_past_to_far_future(
    world: list,
) -> None:
    observed = _observed(world)
    always = set.intersection(*(keys for _, keys in observed)) if observed else set()
    rows = _rows(build_timeline(_snapshots(world)))
    for key in always:
        [row] = [r for r in rows if _key(r) == key]
        assert (row["valid_from"], row["valid_to"]) == (FAR_PAST, FAR_FUTURE)
        assert (row["seen_from"], row["seen_to"]) == (observed[0][0], observed[-1][0])


@given(worlds())
@settings(max_examples=80, deadline=None)
def test_a_row_absent_from_a_snapshot_is_not_possibly_valid_at_its_time(world: list) -> None:
    rows = _rows(build_timeline(_snapshots(world)))
    for moment, keys in _observed(world):
        for r in rows:
            if _key(r) not in keys:
                assert not (r["valid_from"] <= moment < r["valid_to"]), (r, moment)


@given(worlds())
@settings(max_examples=80, deadline=None)
def test_a_row_present_in_a_snapshot_is_certainly_valid_at_its_time(world: list) -> None:
    rows = _rows(build_timeline(_snapshots(world)))
    for moment, keys in _observed(world):
        for key in keys:
            assert any(_key(r) == key and r["seen_from"] <= moment <= r["seen_to"] for r in rows), (
                key,
                moment,
            )


@given(worlds())
@settings(max_examples=80, deadline=None)
def test_certain_intervals_of_one_row_never_overlap_and_count_its_runs(world: list) -> None:
    observed = _observed(world)
    rows = _rows(build_timeline(_snapshots(world)))
    for key in {_key(r) for r in UNIVERSE}:
        mine = sorted((r for r in rows if _key(r) == key), key=lambda r: r["seen_from"])
        for a, b in itertools.pairwise(mine):
            assert a["seen_to"] < b["seen_from"] and a["valid_to"] <= b["seen_from"]
        present = [key in keys for _, keys in observed]
        runs = sum(1 for i, p in enumerate(present) if p and (i == 0 or not present[i - 1]))
        assert len(mine) == runs


@given(worlds(), st.randoms(use_true_random=False))
@settings(max_examples=80, deadline=None)
def test_merging_is_independent_of_the_order_snapshots_are_given_in(
    world: list, rnd: random.Random
) -> None:
    snaps = _snapshots(world)
    shuffled = list(snaps)
    rnd.shuffle(shuffled)
    a, b = build_timeline(snaps), build_timeline(shuffled)
    assert a.snapshots == b.snapshots and a.latest == b.latest
    for name in INVENTORY_SCHEMAS:
        assert a.tables[name].equals(b.tables[name]), name


@given(worlds())
@settings(max_examples=80, deadline=None)
def test_possible_at_is_a_superset_of_certain_at(world: list) -> None:
    tl = build_timeline(_snapshots(world))
    for moment, _ in world:
        for probe in (moment, moment - timedelta(minutes=1), moment + timedelta(minutes=1)):
            certain = {_key(r) for r in tl.at("eni_groups", probe, certain=True).to_pylist()}
            possible = {_key(r) for r in tl.at("eni_groups", probe).to_pylist()}
            assert certain <= possible


_moments = st.integers(0, 10_000).map(lambda m: T0 + timedelta(minutes=m))


@given(
    _moments,
    _moments,
    _moments,
    _moments,
    st.one_of(st.none(), _moments),
    st.one_of(st.none(), _moments),
)
@settings(deadline=None)
def test_narrowing_keeps_seen_inside_valid(
    a: datetime,
    b: datetime,
    c: datetime,
    d: datetime,
    floor: datetime | None,
    earlier: datetime | None,
) -> None:
    vf, sf, st_, vt = sorted((a, b, c, d))
    if sf == vt:
        return
    out = narrow(Interval(vf, vt, sf, st_), floor, earlier)
    assert out.contains_seen()
    assert (
        out.valid_from >= vf and out.seen_from <= sf and out.seen_to == st_ and out.valid_to == vt
    )


# --- Config history ---------------------------------------------------------------------------

GROUP_SETS = [["sg-x"], ["sg-y"], ["sg-x", "sg-y"]]


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[datetime, list[str] | None]]:
    """An ENI's items: increasing capture times, each a group set or a deletion (last only)."""
    n = draw(st.integers(1, 6))
    moment, out = T0, []
    for i in range(n):
        moment += timedelta(minutes=draw(st.integers(1, 600)))
        deleted = i == n - 1 and n > 1 and draw(st.booleans())
        out.append((moment, None if deleted else draw(st.sampled_from(GROUP_SETS))))
    return out


def _items(history: list[tuple[datetime, list[str] | None]]) -> dict:
    items = []
    for moment, groups in history:
        item = {
            "resourceType": "AWS::EC2::NetworkInterface",
            "resourceId": "eni-c",
            "configurationItemCaptureTime": moment.isoformat(),
            "configurationItemStatus": "ResourceDeleted" if groups is None else "OK",
            "awsRegion": "eu-west-1",
        }
        if groups is not None:
            item["configuration"] = json.dumps(
                {
                    "networkInterfaceId": "eni-c",
                    "vpcId": "vpc-1",
                    "subnetId": "subnet-1",
                    "groups": [{"groupId": g, "groupName": g} for g in groups],
                }
            )
        items.append(item)
    return {"configurationItems": items}


@given(histories(), st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_config_history_states_hold_certainly_at_their_capture_and_not_after_deletion(
    history: list, rnd: random.Random
) -> None:
    doc = _items(history)
    shuffled = {
        "configurationItems": rnd.sample(doc["configurationItems"], len(doc["configurationItems"]))
    }
    rows = config_rows(parse_items(shuffled, "h.json")).tables["eni_groups"]
    for _, iv in rows:
        assert iv.contains_seen()
    for moment, groups in history:
        held = {r["group_id"] for r, iv in rows if iv.seen_from <= moment <= iv.seen_to}
        possible = {r["group_id"] for r, iv in rows if iv.valid_from <= moment < iv.valid_to}
        assert held == set(groups or ()), (moment, groups)
        assert held <= possible
    if history[-1][1] is None:
        assert all(iv.valid_to <= history[-1][0] for _, iv in rows)
    # identical consecutive states are one row: rows per group = runs of states holding it
    for g in ("sg-x", "sg-y"):
        present = [g in (groups or ()) for _, groups in history]
        runs = sum(1 for i, p in enumerate(present) if p and (i == 0 or not present[i - 1]))
        assert len([1 for r, _ in rows if r["group_id"] == g]) == runs
