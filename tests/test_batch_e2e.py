"""End to end through the CLI: `flowlens run` against S3 on a moto server, and `flowlens demo`.

The S3 bucket holds the committed sample day; boto3 talks real HTTP to moto on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import SAMPLE_LOGS

from flowlens.cli import main
from flowlens.datadir import DataDir

DAY = "2026-11-28"
BUCKET = "flow-logs-e2e"


def _s3(endpoint: str) -> Any:
    # Explicit fake credentials: a module-scoped fixture runs before the per-test AWS env fixture.
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bucket(moto_endpoint: str) -> Iterator[str]:
    """The sample day (1,154 objects) under a prefix, as `aws s3 sync` would put it: uploaded when
    the bucket is not there, which is once per worker unless a test resets moto (`moto_reset`)."""
    s3 = _s3(moto_endpoint)
    if BUCKET in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        yield f"s3://{BUCKET}/vpc"
        return
    s3.create_bucket(Bucket=BUCKET)
    root = SAMPLE_LOGS / "s3"
    files = [p for p in root.rglob("*.log.gz")]
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda p: s3.upload_file(str(p), BUCKET, "vpc/" + str(p.relative_to(root))), files
            )
        )
    yield f"s3://{BUCKET}/vpc"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def _run_argv(
    source: str, endpoint: str, tmp: Path, inventory: str, *options: str, day: str = DAY
) -> list[str]:
    """``flowlens run`` of ``day`` from ``source`` through ``endpoint`` into ``tmp``/d (data) and
    ``tmp``/o (outputs), with a JSON summary and no progress; ``inventory`` is the --inventory
    value and ``options`` the stage options that go with it."""
    return [
        "run",
        source,
        "--date",
        day,
        "--inventory",
        inventory,
        *options,
        "--endpoint-url",
        endpoint,
        "--data-dir",
        str(tmp / "d"),
        "--out",
        str(tmp / "o"),
        "--json",
        "-q",
    ]


def _stages(summary: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["status"] for s in summary["stages"]}


def test_run_from_s3_then_rerun_skips_then_resumes_after_a_bad_object(
    bucket: str, moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = tmp_path / "d", tmp_path / "o"
    argv = _run_argv(bucket, moto_endpoint, tmp_path, str(SAMPLE_LOGS / "inventory"))

    # Corrupt one object first: the batch finishes, names it, and exits 1.
    s3 = _s3(moto_endpoint)
    victim = next(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="vpc/")["Contents"])
    good = s3.get_object(Bucket=BUCKET, Key=victim)["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=victim, Body=good[: len(good) // 2])
    code, first, err = _run(capsys, *argv)
    assert code == 1 and first["failed_objects"] == [victim]
    assert _stages(first) == dict.fromkeys(
        ("inventory", "ingest", "analyze", "recommend", "report"), "ran"
    )
    assert [s["name"] for s in first["stages"]][:2] == [
        "inventory",
        "ingest",
    ]  # the snapshot at the run's start
    assert (out / "report.html").is_file() and (out / "plan.json").is_file()
    assert f"failed object: {victim}" in err

    # Unchanged inputs: nothing but the (incremental) ingest runs again, and it reads nothing new.
    code, again, _ = _run(capsys, *argv)
    assert code == 1  # the object is still broken
    assert _stages(again) == {
        "ingest": "ran",
        "inventory": "skipped",
        "analyze": "skipped",
        "recommend": "skipped",
        "report": "skipped",
    }

    # The object is repaired: ingest takes it, and every stage downstream runs again.
    s3.put_object(Bucket=BUCKET, Key=victim, Body=good)
    code, fixed, _ = _run(capsys, *argv)
    assert code == 0 and fixed["failed_objects"] == []
    assert _stages(fixed) == {
        "ingest": "ran",
        "inventory": "skipped",
        "analyze": "ran",
        "recommend": "ran",
        "report": "ran",
    }
    ingest_total = next(s for s in fixed["stages"] if s["name"] == "ingest")["summary"]
    assert ingest_total["objects"] == 1
    expected = json.loads((SAMPLE_LOGS / "expected.json").read_text())["ingest"]
    code = main(
        ["sql", "--data-dir", str(data), "--format", "json", "SELECT count(*) AS n FROM flows"]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out) == [{"n": expected["rows"]}]


def test_run_takes_its_inventory_from_the_ec2_api(
    bucket: str, moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2 = boto3.client("ec2", endpoint_url=moto_endpoint, region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="e2e", Description="e2e", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    argv = _run_argv(bucket, moto_endpoint, tmp_path, "aws", "--regions", "us-east-1")
    code, summary, _ = _run(capsys, *argv)
    assert code == 0
    inventory = next(s for s in summary["stages"] if s["name"] == "inventory")
    assert inventory["status"] == "ran" and inventory["summary"]["rows"]["security_groups"] >= 1
    code = main(
        [
            "sql",
            "--data-dir",
            str(tmp_path / "d"),
            "--format",
            "json",
            f"SELECT count(*) AS n FROM sg_rules WHERE group_id = '{sg}' AND from_port = 22",
        ]
    )
    assert json.loads(capsys.readouterr().out) == [{"n": 1}]

    # Resuming the same window reuses the snapshot the first run took from the API.
    code, again, _ = _run(capsys, *argv)
    assert code == 0
    assert _stages(again) == {
        "ingest": "ran",
        "inventory": "skipped",
        "analyze": "skipped",
        "recommend": "skipped",
        "report": "skipped",
    }


def test_run_looks_up_config_history_for_the_enis_no_snapshot_holds(
    bucket: str, moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample day's ENIs are not in this moto account's EC2 inventory: every one is looked up
    in AWS Config after ingest. moto models no EC2 Config history
    (ResourceNotDiscoveredException), so each is reported as not recorded and nothing is stored;
    the history itself is tested from files."""
    argv = _run_argv(
        bucket, moto_endpoint, tmp_path, "aws", "--regions", "us-east-1", "--config-history"
    )
    code, summary, _ = _run(capsys, *argv)
    assert code == 0
    assert [s["name"] for s in summary["stages"]][:3] == ["inventory", "ingest", "config_history"]
    lookup = next(s for s in summary["stages"] if s["name"] == "config_history")["summary"]
    flow_enis = {e["eni_id"] for e in lookup["missing_enis"]}
    assert lookup["flow_enis"] == len(flow_enis) >= 10 and "eni-07a93e423b3ff6908" in flow_enis
    assert set(lookup["not_recorded"]) == flow_enis and lookup["stored"] is None


V2_HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
    "bytes start end action log-status"
)


def _put_records(s3: Any, bucket: str, eni: str, lines: list[str], at: datetime) -> None:
    """One default-format (v2) flow-log object for ``eni``, keyed as AWS delivers it."""
    key = (
        f"AWSLogs/123456789012/vpcflowlogs/us-east-1/{at:%Y/%m/%d}/123456789012_vpcflowlogs_us-east-1_"
        f"fl-0e2e0000000000001_{at:%Y%m%dT%H%MZ}_{eni[-8:]}.log.gz"
    )
    body = gzip.compress(("\n".join([V2_HEADER, *lines]) + "\n").encode(), mtime=0)
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def _ssh(eni: str, client: str, server: str, at: int) -> list[str]:
    """An SSH session from ``client`` to ``server`` recorded on the
    server's ENI, both directions."""
    return [
        f"2 123456789012 {eni} {client} {server} 50022 22 6 10 840 {at} {at + 1} ACCEPT OK",
        f"2 123456789012 {eni} {server} {client} 22 50022 6 10 5200 {at} {at + 1} ACCEPT OK",
    ]


def test_two_runs_with_an_instance_replaced_between_analyse_the_window_with_both_snapshots(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Today's window, ``flowlens run --inventory aws`` twice, the web server replaced in between.

    Each run snapshots the EC2 API at its start (both snapshots inside the window); the second
    run's analysis must judge the old server's morning SSH by the first snapshot and the new
    server's by the second, so both count for the SSH rule and nothing is unattributed.
    """
    now = datetime.now(UTC)
    if now.hour == 23 and now.minute >= 57:
        pytest.skip("the test's records and snapshots must all fall inside today (UTC)")
    ec2 = boto3.client("ec2", endpoint_url=moto_reset, region_name="us-east-1")
    s3 = _s3(moto_reset)
    s3.create_bucket(Bucket="flow-logs-time")
    vpc = ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.98.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ssh = ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    def launch() -> tuple[str, str, str]:
        inst = ec2.run_instances(
            ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet, SecurityGroupIds=[sg]
        )["Instances"][0]
        return (
            inst["InstanceId"],
            inst["NetworkInterfaces"][0]["NetworkInterfaceId"],
            inst["PrivateIpAddress"],
        )

    day = now.date().isoformat()
    data = tmp_path / "d"
    argv = _run_argv(
        "s3://flow-logs-time", moto_reset, tmp_path, "aws", "--regions", "us-east-1", day=day
    )

    old_instance, old_eni, old_addr = launch()
    time.sleep(1.1)  # the records come after the ENI's AttachTime (seconds)
    t = int(time.time())
    _put_records(
        s3,
        "flow-logs-time",
        old_eni,
        _ssh(old_eni, "198.51.100.7", old_addr, t),
        datetime.fromtimestamp(t, UTC),
    )
    time.sleep(2.1)
    code, first, _ = _run(capsys, *argv)
    assert code == 0, first

    # the instance refresh: a new instance in the same group; EC2 deletes the old ENI with the
    # instance (DeleteOnTermination); moto keeps it, so the test deletes it as EC2 would
    ec2.terminate_instances(InstanceIds=[old_instance])
    ec2.delete_network_interface(NetworkInterfaceId=old_eni)
    _, new_eni, new_addr = launch()
    time.sleep(1.1)
    t = int(time.time())
    _put_records(
        s3,
        "flow-logs-time",
        new_eni,
        _ssh(new_eni, "203.0.113.9", new_addr, t),
        datetime.fromtimestamp(t, UTC),
    )
    time.sleep(2.1)  # the second snapshot comes after the new server's records
    code, second, _ = _run(capsys, *argv)
    assert code == 0, second
    assert _stages(second)["inventory"] == "ran" and _stages(second)["analyze"] == "ran"
    assert len(DataDir(data).snapshots()) == 2

    def sql(query: str) -> list[dict[str, Any]]:
        assert main(["sql", "--data-dir", str(data), "--format", "json", query]) == 0
        return list(json.loads(capsys.readouterr().out))

    statuses = sql("SELECT eni_id, status FROM conversations WHERE accepted ORDER BY eni_id")
    assert {(r["eni_id"], r["status"]) for r in statuses} == {
        (old_eni, "allowed"),
        (new_eni, "allowed"),
    }
    assert sql(f"SELECT status, flows FROM rule_usage WHERE rule_id = '{ssh}'") == [
        {"status": "used", "flows": 2}
    ]
    plan = json.loads((tmp_path / "o" / "plan.json").read_text())
    v = plan["verification"]
    assert (v["flows_checked"], v["flows_cut"], v["flows_unattributed"]) == (2, 0, 0)
    latest = datetime.strptime(DataDir(data).snapshots()[-1], "%Y%m%dT%H%M%SZ")
    assert (
        v["snapshot_taken_at"] == f"{latest:%Y-%m-%dT%H:%M:%S}Z"
    )  # the rules are the second snapshot's
    # both servers' clients are evidence: SSH from the world narrows to the two observed addresses
    (rec,) = [r for r in plan["recommendations"] if r["rule_id"] == ssh]
    assert {p["peer"] for p in rec["proposed"]} == {"198.51.100.7/32", "203.0.113.9/32"}


def test_one_run_inventories_every_account_through_the_role(
    bucket: str, moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto maps the assumed role's credentials to the account of its ARN (two worlds)."""
    accounts = ("111122223333", "444455556666")
    groups = {}
    for account in accounts:
        creds = boto3.client(
            "sts", endpoint_url=moto_endpoint, region_name="us-east-1"
        ).assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")[
            "Credentials"
        ]
        ec2 = boto3.client(
            "ec2",
            endpoint_url=moto_endpoint,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        vpc = ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
        groups[account] = ec2.create_security_group(GroupName="org", Description="org", VpcId=vpc)[
            "GroupId"
        ]
    argv = _run_argv(
        bucket,
        moto_endpoint,
        tmp_path,
        "aws",
        "--inventory-accounts",
        ",".join(accounts),
        "--role-name",
        "flowlens-readonly",
        "--regions",
        "us-east-1",
    )
    code, summary, _ = _run(capsys, *argv)
    assert code == 0
    inventory = next(s for s in summary["stages"] if s["name"] == "inventory")
    assert (inventory["summary"]["accounts"], inventory["summary"]["failed"]) == (
        list(accounts),
        [],
    )
    main(
        [
            "sql",
            "--data-dir",
            str(tmp_path / "d"),
            "--format",
            "json",
            "SELECT group_id, account_id FROM security_groups WHERE group_name = 'org' "
            "ORDER BY account_id",
        ]
    )
    assert json.loads(capsys.readouterr().out) == [
        {"group_id": groups[a], "account_id": a} for a in accounts
    ]
    organisation = json.loads((tmp_path / "o" / "accounts.json").read_text())
    assert {r["account_id"] for r in organisation["accounts"]} >= set(accounts)
