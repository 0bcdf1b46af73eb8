"""Snapshots: atomic writes, the window → snapshot rule, bad input and AWS refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from botocore.stub import Stubber

from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError, AwsAccessError, ExitCode, InputError
from flowlens.inventory import snapshot, snapshot_from_aws, snapshot_from_json
from flowlens.inventory.build import InventoryTables, RawInventory, build_inventory
from flowlens.inventory.from_json import read_files
from flowlens.inventory.timeline import load_timeline
from flowlens.model.inventory import INVENTORY_SCHEMAS


def _empty() -> InventoryTables:
    return build_inventory(RawInventory())


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_snapshot_writes_every_table_and_a_record(tmp_path: Path) -> None:
    dd = DataDir(tmp_path)
    info = snapshot.write_snapshot(
        _empty(), dd, source="json", regions=["eu-west-1"], taken_at=_at("2026-11-28T06:00:00")
    )
    assert info.stamp == "20261128T060000Z" and dd.snapshots() == [info.stamp]
    folder = dd.snapshot_dir(info.stamp)
    for name, schema in INVENTORY_SCHEMAS.items():
        assert pq.read_schema(folder / f"{name}.parquet").equals(schema), name
    record = json.loads((folder / "snapshot.json").read_text())
    assert (
        record["taken_at"] == "2026-11-28T06:00:00+00:00" and record["row_counts"]["sg_rules"] == 0
    )


def test_same_second_snapshots_do_not_overwrite(tmp_path: Path) -> None:
    dd = DataDir(tmp_path)
    moment = _at("2026-11-28T06:00:00")
    a = snapshot.write_snapshot(_empty(), dd, source="json", regions=[], taken_at=moment)
    b = snapshot.write_snapshot(_empty(), dd, source="json", regions=[], taken_at=moment)
    assert (a.stamp, b.stamp) == ("20261128T060000Z", "20261128T060001Z")


def test_a_failed_write_leaves_no_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dd = DataDir(tmp_path)
    written: list[Path] = []

    def failing(table: Any, final: Path) -> None:
        if len(written) == 3:
            raise OSError("disk full")
        written.append(final)
        pq.write_table(table, final)

    monkeypatch.setattr(snapshot, "write_parquet_atomic", failing)
    with pytest.raises(OSError):
        snapshot.write_snapshot(_empty(), dd, source="json", regions=[])
    assert dd.snapshots() == [] and not any(dd.inventory.iterdir())


@pytest.mark.parametrize(
    ("window_end", "expected"),
    [
        pytest.param(
            "2026-11-10T00:00:00",
            "20261101T000000Z",
            id="only-earlier-ones-the-latest-before-end-plus-grace",
        ),
        pytest.param(
            "2026-11-27T00:00:00", "20261127T030000Z", id="nightly-run-the-morning-after-counts"
        ),
        pytest.param("2026-11-28T00:00:00", "20261128T230000Z", id="latest-within-grace"),
        pytest.param("2026-12-31T00:00:00", "20261128T230000Z", id="window-after-all-snapshots"),
        pytest.param(
            "2026-10-01T00:00:00",
            "20261101T000000Z",
            id="window-before-all-snapshots-earliest-after",
        ),
    ],
)
def test_choose_snapshot_rule(tmp_path: Path, window_end: str, expected: str) -> None:
    dd = DataDir(tmp_path)
    for stamp in ("20261101T000000Z", "20261127T030000Z", "20261128T230000Z"):
        snapshot.write_snapshot(
            _empty(), dd, source="json", regions=[], taken_at=snapshot.parse_stamp(stamp)
        )
    end = _at(window_end)
    assert snapshot.choose_snapshot(dd, end.replace(hour=0), end) == expected


def test_choose_snapshot_without_any_is_an_analysis_error(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="flowlens inventory"):
        snapshot.choose_snapshot(
            DataDir(tmp_path), _at("2026-11-28T00:00:00"), _at("2026-11-29T00:00:00")
        )


def test_the_timeline_without_a_snapshot_says_what_choose_snapshot_says(tmp_path: Path) -> None:
    dd, start, end = DataDir(tmp_path), _at("2026-11-28T00:00:00"), _at("2026-11-29T00:00:00")
    said = []
    for call in (snapshot.choose_snapshot, load_timeline):
        with pytest.raises(AnalysisError) as caught:
            call(dd, start, end)
        said.append(str(caught.value))
    assert (
        said[0]
        == said[1]
        == (
            f"no inventory snapshot in {dd.inventory} for the window 2026-11-28 00:00 – 2026-11-29 "
            "00:00; run 'flowlens inventory --aws' or '--from-json FILE...' first"
        )
    )


def test_wrong_shape_names_the_file_and_the_accepted_shapes(tmp_path: Path) -> None:
    bad = tmp_path / "instances.json"
    bad.write_text('{"Reservations": []}')
    with pytest.raises(InputError) as err:
        read_files([bad])
    text = str(err.value)
    assert "instances.json" in text and "Reservations" in text
    for key in (
        "SecurityGroups",
        "SecurityGroupRules",
        "NetworkInterfaces",
        "NetworkAcls",
        "Subnets",
        "FlowLogs",
        "PrefixLists",
    ):
        assert key in text


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "sgs.json"
    bad.write_text('{"SecurityGroups": [\n  {"GroupId": "sg-1",}\n]}')
    with pytest.raises(InputError, match=r"sgs\.json:2:"):
        read_files([bad])


def test_bad_value_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "rules.json"
    bad.write_text(
        '{"SecurityGroupRules": [{"SecurityGroupRuleId": "sgr-1", "GroupId": "sg-1",'
        ' "IsEgress": false,'
        ' "IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "CidrIpv4": "10.0.0.300/8"}]}'
    )
    with pytest.raises(InputError, match=r"rules\.json.*10\.0\.0\.300/8"):
        read_files([bad])


def test_unknown_keys_are_ignored(tmp_path: Path) -> None:
    f = tmp_path / "sgs.json"
    f.write_text(
        '{"NextToken": "x", "SecurityGroups": [{"GroupId": "sg-1", "GroupName": "a",'
        ' "FutureKey": 1,'
        ' "IpPermissions": [{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "Shiny": [],'
        ' "IpRanges": [{"CidrIp": "10.0.0.0/8", "Extra": true}]}]}]}'
    )
    raw, _ = read_files([f])
    [rule] = build_inventory(raw).tables["sg_rules"].to_pylist()
    assert (rule["ip_protocol"], rule["from_port"], rule["peer"]) == (17, 53, "10.0.0.0/8")


def test_cli_wrong_shape_exits_2_and_leaves_no_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("[]")
    dd = tmp_path / "data"
    assert main(["inventory", "--from-json", str(bad), "--data-dir", str(dd)]) == ExitCode.BAD_INPUT
    assert "x.json" in capsys.readouterr().err
    assert DataDir(dd).snapshots() == []


def test_cli_from_json_prints_a_summary(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = (
        corpus
        / "aws-api"
        / "security-groups"
        / "cloudmapper-demo-ec2-describe-security-groups.json"
    )
    assert main(["inventory", "--from-json", str(f), "--data-dir", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "security_groups" in out and " 7" in out and "sg_rules" in out


def test_access_denied_names_the_missing_permission(tmp_path: Path) -> None:
    # EC2's own refusal code (UnauthorizedOperation) on the third call, injected with a botocore
    # Stubber on a client; the AccessDenied path through moto's IAM mode is in test_inventory_moto.
    client = boto3.client("ec2", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response("describe_vpcs", {"Vpcs": []})
    stub.add_response("describe_subnets", {"Subnets": []})
    stub.add_client_error(
        "describe_security_groups",
        service_error_code="UnauthorizedOperation",
        service_message="You are not authorized to perform this operation.",
        http_status_code=403,
    )
    with stub, pytest.raises(AwsAccessError, match="ec2:DescribeSecurityGroups") as err:
        snapshot_from_aws({"us-east-1": client}, ["us-east-1"], DataDir(tmp_path))
    assert err.value.exit_code == ExitCode.AWS_ACCESS
    assert DataDir(tmp_path).snapshots() == []


def test_unreachable_endpoint_is_an_access_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code = main(
        [
            "inventory",
            "--aws",
            "--regions",
            "us-east-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--data-dir",
            str(tmp_path / "d"),
        ]
    )
    assert code == ExitCode.AWS_ACCESS
    assert "cannot reach the EC2 endpoint" in capsys.readouterr().err


def test_from_json_snapshot_records_inputs(corpus: Path, tmp_path: Path) -> None:
    f = corpus / "aws-api" / "network-acls" / "awscli-describe-network-acls.json"
    info = snapshot_from_json([f], DataDir(tmp_path))
    assert info.inputs == {str(f): "network_acls"} and info.row_counts["nacl_entries"] == 12


def test_docs_carry_the_generated_iam_policy() -> None:
    from flowlens.inventory.permissions import iam_policy_json

    docs = (Path(__file__).resolve().parent.parent / "docs" / "inventory.md").read_text()
    assert iam_policy_json() in docs


def test_help_ends_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["inventory", "--help"])
    out = capsys.readouterr().out
    assert (
        "Example:" in out and "flowlens inventory --aws --regions" in out and "--from-json" in out
    )


def test_aws_options_with_from_json_are_a_usage_error(corpus: Path, tmp_path: Path) -> None:
    f = corpus / "aws-api" / "network-acls" / "awscli-describe-network-acls.json"
    code = main(
        ["inventory", "--from-json", str(f), "--regions", "us-east-1", "--data-dir", str(tmp_path)]
    )
    assert code == ExitCode.BAD_INPUT


def test_folder_without_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \*\.json"):
        read_files([tmp_path / "empty"])
