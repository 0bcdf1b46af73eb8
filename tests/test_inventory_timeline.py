"""The inventory timeline: validity intervals from many snapshots (flowlens.inventory.timeline)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from flowlens.inventory.timeline import (
    FAR_FUTURE,
    FAR_PAST,
    JUST_AFTER,
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
    tables = {
        name: pa.Table.from_pylist(rows.get(name, []), schema=schema)
        for name, schema in INVENTORY_SCHEMAS.items()
    }
    return SnapshotTables(SnapshotRef(moment, moment.strftime("%Y%m%dT%H%M%SZ")), tables)


def group(eni: str, sg: str) -> dict:
    return {"eni_id": eni, "group_id": sg, "group_name": sg}


def intervals(table: pa.Table) -> list[tuple]:
    return [
        (r["eni_id"], r["group_id"], r["valid_from"], r["valid_to"], r["seen_from"], r["seen_to"])
        for r in table.to_pylist()
    ]


def test_unchanged_world_is_the_snapshot_plus_five_columns() -> None:
    a = [group("eni-1", "sg-a")]
    tl = build_timeline([snap(0, eni_groups=a), snap(1, eni_groups=a), snap(2, eni_groups=a)])
    assert intervals(tl.tables["eni_groups"]) == [
        ("eni-1", "sg-a", FAR_PAST, FAR_FUTURE, t(0), t(2))
    ]
    assert tl.tables["eni_groups"].column_names == [
        *INVENTORY_SCHEMAS["eni_groups"].names,
        *TIMELINE_COLUMN_NAMES,
    ]
    assert tl.latest == tl.snapshots[-1] and tl.latest.taken_at == t(2)


def test_replaced_eni_old_row_possibly_until_the_snapshot_that_misses_it() -> None:
    old, new = [group("eni-old", "sg-a")], [group("eni-new", "sg-a")]
    tl = build_timeline([snap(0, eni_groups=old), snap(12, eni_groups=new)])
    assert intervals(tl.tables["eni_groups"]) == [
        ("eni-old", "sg-a", FAR_PAST, t(12), t(0), t(0)),
        ("eni-new", "sg-a", t(0) + JUST_AFTER, FAR_FUTURE, t(12), t(12)),
    ]


def test_row_that_comes_back_gets_two_intervals() -> None:
    a = [group("eni-1", "sg-a")]
    tl = build_timeline([snap(0, eni_groups=a), snap(1), snap(2, eni_groups=a)])
    assert intervals(tl.tables["eni_groups"]) == [
        ("eni-1", "sg-a", FAR_PAST, t(1), t(0), t(0)),
        ("eni-1", "sg-a", t(1) + JUST_AFTER, FAR_FUTURE, t(2), t(2)),
    ]


def test_attach_time_narrows_the_eni_and_its_groups() -> None:
    eni = {"eni_id": "eni-new", "vpc_id": "vpc-1", "attach_time": t(5)}
    tl = build_timeline([snap(0), snap(12, enis=[eni], eni_groups=[group("eni-new", "sg-a")])])
    e = tl.tables["enis"].to_pylist()[0]
    assert (e["valid_from"], e["seen_from"], e["seen_to"], e["valid_to"]) == (
        t(5),
        t(5),
        t(12),
        FAR_FUTURE,
    )
    g = tl.tables["eni_groups"].to_pylist()[0]
    assert (g["valid_from"], g["seen_from"]) == (
        t(5),
        t(12),
    )  # groups can change without re-attaching


def test_a_table_missing_from_a_snapshot_is_not_evidence_of_absence() -> None:
    a = [group("eni-1", "sg-a")]
    middle = snap(1)
    del middle.tables["eni_groups"]  # type: ignore[attr-defined]
    tl = build_timeline([snap(0, eni_groups=a), middle, snap(2, eni_groups=a)])
    assert intervals(tl.tables["eni_groups"]) == [
        ("eni-1", "sg-a", FAR_PAST, FAR_FUTURE, t(0), t(2))
    ]


def test_flow_log_created_at_noon_covers_from_its_creation_time() -> None:
    eni = {"eni_id": "eni-1", "vpc_id": "vpc-1", "attach_time": t(-100)}
    log = {
        "flow_log_id": "fl-1",
        "resource_id": "vpc-1",
        "resource_type": "vpc",
        "traffic_type": "ALL",
        "creation_time": t(12),
    }
    cover = {
        "eni_id": "eni-1",
        "flow_log_id": "fl-1",
        "via": "vpc",
        "traffic_type": "ALL",
        "creation_time": t(12),
    }
    tl = build_timeline(
        [snap(6, enis=[eni]), snap(18, enis=[eni], flow_logs=[log], eni_coverage=[cover])]
    )
    [fl] = tl.tables["flow_logs"].to_pylist()
    assert (fl["valid_from"], fl["seen_from"], fl["seen_to"], fl["valid_to"]) == (
        t(12),
        t(12),
        t(18),
        FAR_FUTURE,
    )
    [cov] = tl.tables["eni_coverage"].to_pylist()
    assert (cov["valid_from"], cov["seen_from"]) == (
        t(12),
        t(12),
    )  # the later of creation and attachment


def test_vpc_flow_log_older_than_the_eni_covers_certainly_only_from_its_attachment() -> None:
    eni = {"eni_id": "eni-1", "vpc_id": "vpc-1", "attach_time": t(10)}
    cover = {
        "eni_id": "eni-1",
        "flow_log_id": "fl-1",
        "via": "vpc",
        "traffic_type": "ALL",
        "creation_time": t(-1000),
    }
    tl = build_timeline([snap(6), snap(18, enis=[eni], eni_coverage=[cover])])
    [cov] = tl.tables["eni_coverage"].to_pylist()
    assert (cov["valid_from"], cov["seen_from"]) == (t(10), t(10))
    no_attach = {**eni, "attach_time": None}
    tl = build_timeline([snap(6), snap(18, enis=[no_attach], eni_coverage=[cover])])
    [cov] = tl.tables["eni_coverage"].to_pylist()
    assert (cov["valid_from"], cov["seen_from"]) == (
        t(6) + JUST_AFTER,
        t(18),
    )  # not claimed before it was seen


def test_rule_added_and_rule_deleted_between_snapshots() -> None:
    keep = {
        "rule_id": "sgr-keep",
        "group_id": "sg-a",
        "direction": "ingress",
        "ip_protocol": 6,
        "from_port": 22,
        "to_port": 22,
        "peer_type": "cidr4",
        "peer": "10.0.0.0/8",
    }
    gone = {**keep, "rule_id": "sgr-gone", "from_port": 23, "to_port": 23}
    new = {**keep, "rule_id": "sgr-new", "from_port": 443, "to_port": 443}
    changed = {**keep, "peer": "10.1.0.0/16"}  # modify-security-group-rules keeps the id
    tl = build_timeline([snap(6, sg_rules=[keep, gone]), snap(18, sg_rules=[changed, new])])
    got = {
        (r["rule_id"], r["peer"]): (r["valid_from"], r["valid_to"], r["seen_from"], r["seen_to"])
        for r in tl.tables["sg_rules"].to_pylist()
    }
    assert got == {
        ("sgr-keep", "10.0.0.0/8"): (FAR_PAST, t(18), t(6), t(6)),
        ("sgr-gone", "10.0.0.0/8"): (FAR_PAST, t(18), t(6), t(6)),
        ("sgr-keep", "10.1.0.0/16"): (t(6) + JUST_AFTER, FAR_FUTURE, t(18), t(18)),
        ("sgr-new", "10.0.0.0/8"): (t(6) + JUST_AFTER, FAR_FUTURE, t(18), t(18)),
    }


def test_prefix_list_version_in_force_at_a_time() -> None:
    def pl(version: int) -> dict:
        return {"prefix_list_id": "pl-1", "prefix_list_name": "offices", "version": version}

    def entry(version: int, cidr: str) -> dict:
        return {"prefix_list_id": "pl-1", "version": version, "cidr": cidr}

    tl = build_timeline(
        [
            snap(6, prefix_lists=[pl(1)], prefix_list_entries=[entry(1, "198.51.100.0/24")]),
            snap(
                18,
                prefix_lists=[pl(2)],
                prefix_list_entries=[entry(2, "198.51.100.0/24"), entry(2, "203.0.113.0/24")],
            ),
        ]
    )
    assert [r["version"] for r in tl.at("prefix_lists", t(3)).to_pylist()] == [1]
    assert sorted(r["version"] for r in tl.at("prefix_lists", t(12)).to_pylist()) == [
        1,
        2,
    ]  # changed in between
    assert [r["version"] for r in tl.at("prefix_lists", t(20)).to_pylist()] == [2]
    assert [r["version"] for r in tl.at("prefix_lists", t(6), certain=True).to_pylist()] == [1]
    assert sorted(r["cidr"] for r in tl.at("prefix_list_entries", t(20)).to_pylist()) == [
        "198.51.100.0/24",
        "203.0.113.0/24",
    ]


def test_a_snapshot_of_some_regions_says_nothing_about_the_others() -> None:
    a = {"eni_id": "eni-a", "vpc_id": "vpc-1", "region": "eu-west-1"}
    b = {"eni_id": "eni-b", "vpc_id": "vpc-2", "region": "us-east-1"}
    both = frozenset({"eu-west-1", "us-east-1"})

    def regional(hours: float, regions: frozenset[str], enis: list[dict]) -> SnapshotTables:
        s = snap(hours, enis=enis, eni_groups=[group(e["eni_id"], "sg-x") for e in enis])
        return SnapshotTables(s.ref, s.tables, regions)

    tl = build_timeline(
        [
            regional(0, both, [a, b]),
            regional(6, frozenset({"eu-west-1"}), [a]),
            regional(12, both, [a]),
        ]
    )
    spans = {(r["eni_id"], r["valid_to"], r["seen_to"]) for r in tl.tables["enis"].to_pylist()}
    assert spans == {
        ("eni-a", FAR_FUTURE, t(12)),
        ("eni-b", t(12), t(0)),
    }  # not ended by the eu-west-1 snapshot
    groups = {(r["eni_id"], r["valid_to"]) for r in tl.tables["eni_groups"].to_pylist()}
    assert groups == {("eni-a", FAR_FUTURE), ("eni-b", t(12))}  # its region comes from its ENI
