"""Snapshots over time: deduplicated writes, observed tables, the window's snapshots, the timeline
loader, AWS Config history from files, and the inventory CLI's time options."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flowlens.cli import main
from flowlens.cli.inventory import parse_taken_at
from flowlens.datadir import DataDir
from flowlens.errors import ExitCode, InputError
from flowlens.inventory import inventory_from_json, snapshot, snapshot_from_json
from flowlens.inventory.config_history import parse_items
from flowlens.inventory.timeline import FAR_FUTURE, FAR_PAST, JUST_AFTER, load_timeline
from flowlens.inventory.timeline_io import select_snapshots

SAMPLE_INVENTORY = Path(__file__).resolve().parent.parent / "sample_logs" / "inventory"
#: 10.20.0.10 in subnet-00d2f6961a8345eff (flow log fl-04e51e8ccff15a172)
BASTION = "eni-07a93e423b3ff6908"
BASTION_SG = "sg-0ec5c041d9a101b95"
DAY = datetime(2026, 11, 28, tzinfo=UTC)


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


def exports(
    tmp_path: Path, name: str, *, drop_enis: tuple[str, ...] = (), without: tuple[str, ...] = ()
) -> Path:
    """A copy of the sample's describe-* files, minus some ENIs or some files."""
    folder = tmp_path / name
    folder.mkdir()
    for f in SAMPLE_INVENTORY.glob("*.json"):
        if f.name in without:
            continue
        if f.name == "describe-network-interfaces.json" and drop_enis:
            doc = json.loads(f.read_text())
            doc["NetworkInterfaces"] = [
                e for e in doc["NetworkInterfaces"] if e["NetworkInterfaceId"] not in drop_enis
            ]
            (folder / f.name).write_text(json.dumps(doc))
        else:
            shutil.copy(f, folder / f.name)
    return folder


def rows(table: Any, **match: Any) -> list[dict[str, Any]]:
    return [r for r in table.to_pylist() if all(r[k] == v for k, v in match.items())]


# --- deduplicated snapshots -------------------------------------------------------------------


def test_unchanged_tables_are_hard_links_and_changed_ones_are_written(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    a = snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(6))
    b = snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(7))
    c = snapshot_from_json([exports(tmp_path, "x", drop_enis=(BASTION,))], dd, taken_at=at(8))
    assert a.reused == {}
    assert b.reused == dict.fromkeys(b.row_counts, a.stamp)
    for name in b.row_counts:
        assert (
            os.stat(a.path / f"{name}.parquet").st_ino == os.stat(b.path / f"{name}.parquet").st_ino
        )
    changed = {"enis", "eni_groups", "eni_ips", "eni_coverage"}
    assert set(c.reused) == set(c.row_counts) - changed and set(c.reused.values()) == {b.stamp}
    assert os.stat(c.path / "enis.parquet").st_ino != os.stat(b.path / "enis.parquet").st_ino
    record = snapshot.read_snapshot_info(dd, c.stamp)
    assert record["reused"] == c.reused and "enis" in record["observed"]


def test_where_links_fail_an_identical_table_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dd = DataDir(tmp_path / "data")
    a = snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(6))

    def no_links(*_: Any) -> None:
        raise OSError("links not supported")

    monkeypatch.setattr(os, "link", no_links)
    b = snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(7))
    assert set(b.reused) == set(b.row_counts)
    assert (
        os.stat(a.path / "sg_rules.parquet").st_ino != os.stat(b.path / "sg_rules.parquet").st_ino
    )
    assert (a.path / "sg_rules.parquet").read_bytes() == (b.path / "sg_rules.parquet").read_bytes()


def test_an_export_without_describe_network_interfaces_does_not_end_every_eni(
    tmp_path: Path,
) -> None:
    dd = DataDir(tmp_path / "data")
    snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(6))
    partial = snapshot_from_json(
        [exports(tmp_path, "sgs", without=("describe-network-interfaces.json",))],
        dd,
        taken_at=at(12),
    )
    assert "enis" not in partial.observed and "sg_rules" in partial.observed
    tl = load_timeline(dd, at(0), at(24))
    [bastion] = rows(tl.tables["enis"], eni_id=BASTION)
    assert (bastion["valid_to"], bastion["seen_to"]) == (FAR_FUTURE, at(6))


# --- which snapshots a window reads -----------------------------------------------------------


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        pytest.param(
            [
                "20261127T020000Z",
                "20261127T230000Z",
                "20261128T120000Z",
                "20261129T020000Z",
                "20261129T030000Z",
            ],
            ["20261127T230000Z", "20261128T120000Z", "20261129T020000Z"],
            id="latest-before-inside-earliest-after",
        ),
        pytest.param(
            ["20261129T020000Z", "20261130T020000Z"],
            ["20261129T020000Z"],
            id="only-after-the-earliest",
        ),
        pytest.param(["20261101T000000Z"], ["20261101T000000Z"], id="only-long-before"),
        pytest.param(
            ["20261128T000000Z", "20261129T000000Z"],
            ["20261128T000000Z", "20261129T000000Z"],
            id="edges-are-inside",
        ),
    ],
)
def test_select_snapshots(stamps: list[str], expected: list[str]) -> None:
    assert select_snapshots(stamps, at(0), at(24)) == expected


# --- the timeline of an instance replaced mid-day ---------------------------------------------


def test_instance_replaced_between_snapshots(tmp_path: Path) -> None:
    """Morning: the bastion. Evening: it is gone (its replacement is another
    ENI, not modelled here)."""
    dd = DataDir(tmp_path / "data")
    snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(6))
    snapshot_from_json([exports(tmp_path, "evening", drop_enis=(BASTION,))], dd, taken_at=at(18))
    tl = load_timeline(dd, at(0), at(24))
    assert [s.taken_at for s in tl.snapshots] == [at(6), at(18)] and tl.latest.taken_at == at(18)
    [eni] = rows(tl.tables["enis"], eni_id=BASTION)
    attach = datetime(2026, 3, 2, 9, 14, 31, tzinfo=UTC)
    assert (eni["valid_from"], eni["seen_from"], eni["seen_to"], eni["valid_to"]) == (
        attach,
        attach,
        at(6),
        at(18),
    )
    assert {
        r["group_id"] for r in rows(tl.tables["eni_groups"], eni_id=BASTION, valid_to=at(18))
    } == {BASTION_SG, "sg-0d106adff8383b2ec"}
    # everything that did not change is one row, as in a single snapshot
    [rule] = rows(tl.tables["sg_rules"], rule_id="sgr-0ad9409a2016c62ef")
    assert (rule["valid_from"], rule["valid_to"], rule["seen_from"], rule["seen_to"]) == (
        FAR_PAST,
        FAR_FUTURE,
        at(6),
        at(18),
    )
    assert {r["source"] for t in tl.tables.values() for r in t.select(["source"]).to_pylist()} == {
        "snapshot"
    }
    assert BASTION not in tl.at("enis", at(19)).column("eni_id").to_pylist()
    assert BASTION in tl.at("enis", at(12)).column("eni_id").to_pylist()
    assert BASTION in tl.at("enis", at(6), certain=True).column("eni_id").to_pylist()
    assert BASTION not in tl.at("enis", at(12), certain=True).column("eni_id").to_pylist()


# --- AWS Config history from files ------------------------------------------------------------


def eni_item(
    eni: str,
    when: datetime,
    status: str = "OK",
    *,
    groups: tuple[str, ...] = (BASTION_SG,),
    as_object: bool = False,
    attach: datetime | None = None,
    ip: str = "10.20.0.77",
) -> dict[str, Any]:
    """A configuration item as GetResourceConfigHistory documents it
    (configuration: a JSON string)."""
    item: dict[str, Any] = {
        "version": "1.3",
        "accountId": "111122223333",
        "configurationItemCaptureTime": when.isoformat(),
        "configurationItemStatus": status,
        "configurationStateId": str(int(when.timestamp() * 1000)),
        "arn": f"arn:aws:ec2:us-east-1:111122223333:network-interface/{eni}",
        "resourceType": "AWS::EC2::NetworkInterface",
        "resourceId": eni,
        "awsRegion": "us-east-1",
        "availabilityZone": "us-east-1a",
        "tags": {},
        "relatedEvents": [],
        "relationships": [],
        "supplementaryConfiguration": {},
    }
    if status in ("ResourceDeleted", "ResourceDeletedNotRecorded"):
        item["configuration"] = None
        return item
    cfg = {
        "networkInterfaceId": eni,
        "vpcId": "vpc-0b873741c03378b7d",
        "subnetId": "subnet-00d2f6961a8345eff",
        "availabilityZone": "us-east-1a",
        "description": "",
        "interfaceType": "interface",
        "ownerId": "111122223333",
        "privateIpAddress": ip,
        "privateIpAddresses": [{"privateIpAddress": ip, "primary": True}],
        "ipv6Addresses": [],
        "groups": [{"groupId": g, "groupName": g} for g in groups],
        "sourceDestCheck": True,
        "status": "in-use",
        "tagSet": [],
        "requesterManaged": False,
        "attachment": {
            "attachTime": (attach or when).isoformat(),
            "attachmentId": "eni-attach-1",
            "deviceIndex": 0,
            "instanceId": "i-0tmp",
            "status": "attached",
            "deleteOnTermination": True,
        },
    }
    item["configuration"] = cfg if as_object else json.dumps(cfg)
    return item


def write_history(path: Path, *items: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"configurationItems": list(items)}, indent=1))
    return path


def test_eni_alive_only_between_two_snapshots_found_through_config_history(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(6))
    snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(18))
    history = write_history(
        tmp_path / "eni-temp.json",
        eni_item("eni-0temp", at(9) + timedelta(seconds=40), "ResourceDiscovered", attach=at(9)),
        eni_item("eni-0temp", at(15), "ResourceDeleted"),
    )
    snap, stored = inventory_from_json([history], dd, taken_at=at(20))
    assert (
        snap is None
        and stored is not None
        and (stored.items, stored.resources, stored.deleted) == (2, 1, 1)
    )
    assert dd.snapshots() == [
        snapshot.stamp_of(at(6)),
        snapshot.stamp_of(at(18)),
    ]  # history is no snapshot
    tl = load_timeline(dd, at(0), at(24))
    [eni] = rows(tl.tables["enis"], eni_id="eni-0temp")
    assert (
        eni["source"] == "config"
        and eni["private_ip"] == "10.20.0.77"
        and eni["attach_time"] == at(9)
    )
    assert (eni["valid_from"], eni["seen_from"], eni["seen_to"], eni["valid_to"]) == (
        at(9),
        at(9),
        at(15) - JUST_AFTER,
        at(15),
    )
    [grp] = rows(tl.tables["eni_groups"], eni_id="eni-0temp")
    assert (grp["group_id"], grp["valid_from"], grp["seen_from"], grp["valid_to"]) == (
        BASTION_SG,
        at(9),
        at(9) + timedelta(seconds=40),
        at(15),
    )
    [ip] = rows(tl.tables["eni_ips"], eni_id="eni-0temp")
    assert ip["address"] == "10.20.0.77"
    # its subnet's flow log (known from the snapshots) covered it while both existed
    [cov] = rows(tl.tables["eni_coverage"], eni_id="eni-0temp")
    assert (cov["flow_log_id"], cov["via"], cov["source"]) == (
        "fl-04e51e8ccff15a172",
        "subnet",
        "config",
    )
    assert (cov["seen_from"], cov["seen_to"]) == (at(9), at(15) - JUST_AFTER)


def test_config_history_of_an_eni_a_snapshot_holds_is_not_used(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(6))
    inventory_from_json(
        [write_history(tmp_path / "h.json", eni_item(BASTION, at(1), ip="10.20.0.10"))], dd
    )
    tl = load_timeline(dd, at(0), at(24))
    assert {r["source"] for r in rows(tl.tables["enis"], eni_id=BASTION)} == {"snapshot"}


def test_configuration_as_string_or_object_gives_the_same_rows(tmp_path: Path) -> None:
    a = parse_items({"configurationItems": [eni_item("eni-1", at(1))]}, "a.json")
    b = parse_items({"configurationItems": [eni_item("eni-1", at(1), as_object=True)]}, "b.json")
    assert a[0].configuration == b[0].configuration


def test_a_config_history_change_of_groups_gives_two_group_rows(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(6))
    inventory_from_json(
        [
            write_history(
                tmp_path / "h.json",
                eni_item("eni-0temp", at(8), attach=at(8)),
                eni_item("eni-0temp", at(12), groups=("sg-0d106adff8383b2ec",), attach=at(8)),
            )
        ],
        dd,
        taken_at=at(20),
    )
    tl = load_timeline(dd, at(0), at(24))
    got = sorted(
        (r["group_id"], r["valid_from"], r["valid_to"], r["seen_from"], r["seen_to"])
        for r in rows(tl.tables["eni_groups"], eni_id="eni-0temp")
    )
    assert got == [
        ("sg-0d106adff8383b2ec", at(8) + JUST_AFTER, FAR_FUTURE, at(12), at(20)),
        (BASTION_SG, at(8), at(12), at(8), at(12) - JUST_AFTER),
    ]
    assert len(rows(tl.tables["enis"], eni_id="eni-0temp")) == 1  # the ENI itself did not change


@pytest.mark.parametrize(
    ("item", "message"),
    [
        pytest.param(
            {
                "resourceType": "AWS::EC2::NetworkInterface",
                "configurationItemCaptureTime": "2026-11-28T00:00:00Z",
            },
            r"configurationItems\[0\]: needs resourceId",
            id="no-id",
        ),
        pytest.param(
            {
                "resourceType": "AWS::EC2::NetworkInterface",
                "resourceId": "eni-1",
                "configurationItemCaptureTime": "yesterday",
                "configuration": "{}",
            },
            "'yesterday' is not a timestamp",
            id="bad-time",
        ),
        pytest.param(
            {
                "resourceType": "AWS::EC2::SecurityGroup",
                "resourceId": "sg-1",
                "configurationItemCaptureTime": "2026-11-28T00:00:00Z",
                "configuration": "{not json",
            },
            "configuration is not valid JSON",
            id="bad-configuration",
        ),
    ],
)
def test_bad_config_items_name_the_file_and_the_item(
    tmp_path: Path, item: dict[str, Any], message: str
) -> None:
    path = write_history(tmp_path / "bad.json", item)
    with pytest.raises(InputError, match=message) as exc:
        inventory_from_json([path], DataDir(tmp_path / "data"))
    assert "bad.json" in str(exc.value)


def test_security_group_from_config_history_gives_rules(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    snapshot_from_json([SAMPLE_INVENTORY], dd, taken_at=at(6))
    sg_cfg = {
        "groupId": "sg-0gone",
        "groupName": "batch",
        "description": "batch jobs",
        "vpcId": "vpc-0b873741c03378b7d",
        "ownerId": "111122223333",
        "tags": [],
        "ipPermissions": [
            {
                "ipProtocol": "tcp",
                "fromPort": 22,
                "toPort": 22,
                "userIdGroupPairs": [],
                "ipv4Ranges": [{"cidrIp": "10.20.0.0/24"}],
                "ipRanges": ["10.20.0.0/24"],
                "ipv6Ranges": [],
                "prefixListIds": [],
            }
        ],
        "ipPermissionsEgress": [
            {
                "ipProtocol": "-1",
                "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
                "ipRanges": ["0.0.0.0/0"],
                "ipv6Ranges": [],
                "prefixListIds": [],
                "userIdGroupPairs": [],
            }
        ],
    }
    item = {
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": "sg-0gone",
        "awsRegion": "us-east-1",
        "configurationItemCaptureTime": at(8).isoformat(),
        "configurationItemStatus": "OK",
        "resourceCreationTime": at(7).isoformat(),
        "configuration": json.dumps(sg_cfg),
    }
    deleted = {
        **item,
        "configurationItemCaptureTime": at(16).isoformat(),
        "configurationItemStatus": "ResourceDeleted",
        "configuration": None,
    }
    inventory_from_json([write_history(tmp_path / "sg.json", item, deleted)], dd, taken_at=at(20))
    tl = load_timeline(dd, at(0), at(24))
    [group] = rows(tl.tables["security_groups"], group_id="sg-0gone")
    assert (group["source"], group["valid_from"], group["valid_to"]) == ("config", at(7), at(16))
    got = {
        (r["direction"], r["ip_protocol"], r["from_port"], r["peer"], r["rule_id_source"])
        for r in rows(tl.tables["sg_rules"], group_id="sg-0gone")
    }
    assert got == {
        ("ingress", 6, 22, "10.20.0.0/24", "derived"),
        ("egress", -1, None, "0.0.0.0/0", "derived"),
    }


# --- the CLI ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T06:00:00Z", at(6)),
        ("2026-11-28T07:30:00+01:00", at(6.5)),
    ],
)
def test_taken_at_accepts_iso_8601_with_an_offset(text: str, expected: datetime) -> None:
    assert parse_taken_at(text) == expected


@pytest.mark.parametrize(
    "text", ["2026-11-28T06:00:00", "2026-11-28", "yesterday", "2999-01-01T00:00:00Z"]
)
def test_taken_at_refuses_local_times_dates_garbage_and_the_future(
    text: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        [
            "inventory",
            "--from-json",
            str(SAMPLE_INVENTORY),
            "--taken-at",
            text,
            "--data-dir",
            str(tmp_path),
        ]
    )
    assert code == ExitCode.BAD_INPUT and "--taken-at" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--aws", "--taken-at", "2026-11-28T06:00:00Z"],
        ["--aws", "--config-history"],
        ["--from-json", "x.json", "--config-history", "--date", "2026-11-28"],
        ["--aws", "--date", "2026-11-28"],
    ],
)
def test_time_options_that_do_not_go_together_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["inventory", *argv, "--data-dir", str(tmp_path)]) == ExitCode.BAD_INPUT
    assert capsys.readouterr().err


def test_cli_stamps_the_snapshot_with_taken_at_and_warns_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert (
        main(
            [
                "inventory",
                "--from-json",
                str(SAMPLE_INVENTORY),
                "--taken-at",
                "2026-11-28T06:00:00Z",
                "--data-dir",
                str(data),
                "--json",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert json.loads(out)["stamp"] == "20261128T060000Z" and "--taken-at" not in err
    assert main(["inventory", "--from-json", str(SAMPLE_INVENTORY), "--data-dir", str(data)]) == 0
    out, err = capsys.readouterr()
    assert "no --taken-at given" in err and "cannot be placed in history" in err
    assert "(unchanged: linked)" in out


def test_the_same_config_history_given_twice_is_stored_once(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    history = write_history(tmp_path / "h.json", eni_item("eni-0temp", at(9)))
    _, first = inventory_from_json([history], dd, taken_at=at(20))
    _, again = inventory_from_json([history], dd, taken_at=at(20))
    assert first is not None and again is not None and first.path == again.path
    assert len(list(dd.config_history.glob("*.json"))) == 1
