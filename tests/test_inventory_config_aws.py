"""``flowlens inventory --aws --config-history``: the GetResourceConfigHistory calls.

moto's AWS Config returns only the current configuration item of the few resource types it
models (S3, IAM, SNS) and raises ResourceNotDiscoveredException for ENIs and security groups: the
end-to-end test below therefore proves the calls, their IAM declaration and the handling of a
resource Config never recorded, against the real HTTP API of the moto server. The history
semantics (several items, deletions, pagination, 7-day spans) are tested with botocore's Stubber
on responses shaped as the GetResourceConfigHistory documentation gives them, and from JSON files
in tests/test_inventory_history.py.
"""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.stub import Stubber

from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.errors import AwsAccessError
from flowlens.inventory import from_aws
from flowlens.inventory.config_aws import Resource, resource_history
from flowlens.inventory.permissions import API_PERMISSIONS, iam_policy
from flowlens.model.flow import FLOW_FILE_SCHEMA

REGION = "us-east-1"
DAY = date(2026, 11, 28)
START = datetime(2026, 11, 28, tzinfo=UTC)
ENI = "AWS::EC2::NetworkInterface"


def _write_flows(dd: DataDir, day: date, enis: dict[str, int]) -> None:
    """Ingested flow records on the given ENIs (only what --config-history reads matters here)."""
    recs = [
        {
            "version": 2,
            "interface_id": eni,
            "srcaddr": "10.99.1.5",
            "dstaddr": "10.99.1.6",
            "srcport": 40000,
            "dstport": 22,
            "protocol": 6,
            "packets": 1,
            "bytes": 60,
            "start": 1764300000,
            "end": 1764300050,
            "action": "ACCEPT",
            "log_status": "OK",
            "account_id": "123456789012",
            "region": REGION,
        }
        for eni, n in enis.items()
        for _ in range(n)
    ]
    folder = dd.flows / "account_id=123456789012" / f"region={REGION}" / f"date={day.isoformat()}"
    folder.mkdir(parents=True)
    cols = {f.name: [r.get(f.name) for r in recs] for f in FLOW_FILE_SCHEMA}
    pq.write_table(pa.table(cols, schema=FLOW_FILE_SCHEMA), folder / "part-0.parquet")


def test_config_history_against_moto(
    moto_reset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = moto_reset
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "FLOWLENS_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # moto lacks DescribeStaleSecurityGroups (HTTP 500)
    ec2 = boto3.client("ec2", endpoint_url=url, region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    held = ec2.create_network_interface(SubnetId=subnet, Groups=[sg])["NetworkInterface"][
        "NetworkInterfaceId"
    ]
    # AWS Config needs a recorder for ENIs and SGs to have history at all; moto accepts it (and
    # still models no EC2 history).
    boto3.client("config", endpoint_url=url, region_name=REGION).put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": "arn:aws:iam::123456789012:role/config",
            "recordingGroup": {
                "allSupported": False,
                "includeGlobalResourceTypes": False,
                "resourceTypes": [ENI, "AWS::EC2::SecurityGroup"],
            },
        }
    )
    dd = DataDir(tmp_path / "data")
    _write_flows(dd, DAY, {held: 3, "eni-0replaced00000000": 7})

    calls: list[str] = []
    original = from_aws.make_session

    def recording_session(profile: str | None = None) -> Any:
        session = original(profile)
        session.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
        return session

    monkeypatch.setattr(from_aws, "make_session", recording_session)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "inventory",
                "--aws",
                "--config-history",
                "--date",
                DAY.isoformat(),
                "--endpoint-url",
                url,
                "--regions",
                REGION,
                "--data-dir",
                str(dd.root),
                "--json",
            ]
        )
    assert code == 0
    lookup = json.loads(out.getvalue())["config_history"]
    assert lookup["flow_enis"] == 2
    assert lookup["missing_enis"] == [
        {"eni_id": "eni-0replaced00000000", "regions": [REGION], "records": 7}
    ]
    assert lookup["not_recorded"] == ["eni-0replaced00000000"] and lookup["stored"] is None
    assert "GetResourceConfigHistory" in calls
    assert set(calls) <= set(API_PERMISSIONS), set(calls) - set(API_PERMISSIONS)
    assert "config:GetResourceConfigHistory" in iam_policy()["Statement"][0]["Action"]  # type: ignore[index]
    assert not dd.config_history.exists()


def _item(eni: str, when: datetime, status: str = "OK") -> dict[str, Any]:
    cfg = (
        None
        if status == "ResourceDeleted"
        else json.dumps(
            {
                "networkInterfaceId": eni,
                "vpcId": "vpc-1",
                "groups": [{"groupId": "sg-1", "groupName": "a"}],
            }
        )
    )
    item = {
        "resourceType": ENI,
        "resourceId": eni,
        "configurationItemCaptureTime": when,
        "configurationItemStatus": status,
        "awsRegion": REGION,
    }
    return item | ({"configuration": cfg} if cfg else {})


def _client() -> Any:
    return boto3.client(
        "config", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_history_asks_for_the_state_at_the_start_then_every_item_in_seven_day_spans() -> None:
    client = _client()
    key = {"resourceType": ENI, "resourceId": "eni-1"}
    end = START + timedelta(days=10)
    mid = START + timedelta(days=7)
    before, created, deleted = (
        START - timedelta(days=3),
        START + timedelta(days=1),
        START + timedelta(days=8),
    )
    with Stubber(client) as stub:
        stub.add_response(
            "get_resource_config_history",
            {"configurationItems": [_item("eni-1", before)]},
            {**key, "laterTime": START, "limit": 1},
        )
        span1 = {
            **key,
            "earlierTime": START,
            "laterTime": mid,
            "chronologicalOrder": "Forward",
            "limit": 100,
        }
        stub.add_response(
            "get_resource_config_history",
            {"configurationItems": [_item("eni-1", created)], "nextToken": "page2"},
            span1,
        )
        stub.add_response(
            "get_resource_config_history",
            {"configurationItems": [_item("eni-1", created + timedelta(hours=1))]},
            {**span1, "nextToken": "page2"},
        )
        stub.add_response(
            "get_resource_config_history",
            {"configurationItems": [_item("eni-1", deleted, "ResourceDeleted")]},
            {
                **key,
                "earlierTime": mid,
                "laterTime": end,
                "chronologicalOrder": "Forward",
                "limit": 100,
            },
        )
        items = resource_history(client, Resource(ENI, "eni-1", REGION), START, end)
        stub.assert_no_pending_responses()
    assert items is not None
    assert [(i["configurationItemCaptureTime"], i["configurationItemStatus"]) for i in items] == [
        (before, "OK"),
        (created, "OK"),
        (created + timedelta(hours=1), "OK"),
        (deleted, "ResourceDeleted"),
    ]


def test_a_resource_config_never_recorded_has_no_history() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_resource_config_history", "ResourceNotDiscoveredException", "not discovered"
        )
        assert (
            resource_history(
                client, Resource(ENI, "eni-1", REGION), START, START + timedelta(days=1)
            )
            is None
        )


def test_a_refusal_names_the_iam_action() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_resource_config_history", "AccessDeniedException", "no", http_status_code=400
        )
        with pytest.raises(AwsAccessError, match="config:GetResourceConfigHistory"):
            resource_history(
                client, Resource(ENI, "eni-1", REGION), START, START + timedelta(days=1)
            )
