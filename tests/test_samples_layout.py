"""sample_logs/: the committed demo day is reproducible, laid out like the bucket, and consistent
with its inventory and expectations. (The pipeline-vs-expected.json test comes with the demo.)"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowlens.model.flow import DEFAULT_FORMAT, VPC_BY_NAME, format_fields
from flowlens.model.status import RejectCause, RuleStatus

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
KEY_RE = re.compile(
    r"^AWSLogs/(?P<account>\d{12})/vpcflowlogs/(?P<region>[a-z]{2}(-[a-z]+)+-\d)/"
    r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P=account)_vpcflowlogs_(?P=region)_(?P<fl>fl-[0-9a-f]+)_"
    r"(?P=y)(?P=m)(?P=d)T(?P<hh>\d{2})(?P<mm>\d{2})Z_[0-9a-f]{8}\.log\.gz$"
)
TOP_KEYS = {
    "describe-vpcs.json": "Vpcs",
    "describe-subnets.json": "Subnets",
    "describe-security-groups.json": "SecurityGroups",
    "describe-security-group-rules.json": "SecurityGroupRules",
    "describe-network-interfaces.json": "NetworkInterfaces",
    "describe-network-acls.json": "NetworkAcls",
    "describe-managed-prefix-lists.json": "PrefixLists",
    "describe-flow-logs.json": "FlowLogs",
}


def _inv(name: str) -> list[dict]:
    doc = json.loads((SAMPLES / "inventory" / name).read_text())
    return doc[TOP_KEYS[name]] if name in TOP_KEYS else doc["Entries"]


def _objects() -> list[Path]:
    return sorted((SAMPLES / "s3").rglob("*"))


def _keys() -> list[str]:
    return [p.relative_to(SAMPLES / "s3").as_posix() for p in _objects() if p.is_file()]


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".gz", ".json")
    }


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((SAMPLES / "expected.json").read_text())


@pytest.fixture(scope="module")
def flow_logs() -> dict[str, dict]:
    return {f["FlowLogId"]: f for f in _inv("describe-flow-logs.json")}


@pytest.mark.slow
def test_generator_reproduces_the_committed_bytes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SAMPLES / "make_sample.py"), "--out", str(tmp_path)], check=True
    )
    committed = {
        k: v
        for k, v in _tree_digest(SAMPLES).items()
        if k.startswith(("s3/", "inventory/", "expected"))
    }
    assert _tree_digest(tmp_path) == committed


def test_every_key_follows_the_aws_layout(flow_logs: dict[str, dict]) -> None:
    keys = _keys()
    assert keys, "no objects under sample_logs/s3"
    for key in keys:
        m = KEY_RE.match(key)
        assert m, f"{key} does not follow the S3 flow-log layout"
        assert (m["y"], m["m"], m["d"]) == ("2026", "11", "28")
        assert m["fl"] in flow_logs, f"{key}: {m['fl']} is not in describe-flow-logs"
        assert int(m["mm"]) % 5 == 0


def test_committed_size_stays_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 3 * 1024 * 1024


def test_each_object_starts_with_its_flow_logs_format_and_records_end_in_its_bin(
    flow_logs: dict[str, dict],
) -> None:
    for path in _objects():
        if not path.is_file():
            continue
        m = KEY_RE.match(path.relative_to(SAMPLES / "s3").as_posix())
        assert m
        header, *lines = gzip.decompress(path.read_bytes()).decode().splitlines()
        fields = format_fields(flow_logs[m["fl"]]["LogFormat"])
        assert header.split(" ") == fields, path.name
        bin_start = int(m["hh"]) * 3600 + int(m["mm"]) * 60
        end_col = fields.index("end")
        for line in lines:
            toks = line.split()
            if len(toks) == len(fields) and toks[end_col].isdigit():
                assert 0 <= (int(toks[end_col]) - 1795824000) - bin_start < 300, (
                    f"{path.name}: {line}"
                )


def test_formats_are_the_documented_ones(flow_logs: dict[str, dict]) -> None:
    formats = {f["LogFormat"] for f in flow_logs.values()}
    assert DEFAULT_FORMAT in formats
    assert all(name in VPC_BY_NAME for fmt in formats for name in format_fields(fmt))
    custom = [format_fields(f) for f in formats if f != DEFAULT_FORMAT]
    assert any("reject-reason" in c for c in custom) and any(
        "reject-reason" not in c for c in custom
    )
    assert all(c != sorted(c, key=list(VPC_BY_NAME).index) for c in custom), (
        "custom order must differ"
    )


def test_every_eni_in_the_flows_is_in_the_inventory() -> None:
    enis = {e["NetworkInterfaceId"] for e in _inv("describe-network-interfaces.json")}
    seen: set[str] = set()
    for path in _objects():
        if path.is_file():
            seen |= set(
                re.findall(r"eni-[0-9a-f]{17}", gzip.decompress(path.read_bytes()).decode())
            )
    assert seen and seen <= enis


def test_inventory_files_have_the_aws_cli_shapes() -> None:
    for name, top in TOP_KEYS.items():
        doc = json.loads((SAMPLES / "inventory" / name).read_text())
        assert list(doc) == [top] and isinstance(doc[top], list) and doc[top], name
    for rule in _inv("describe-security-group-rules.json"):
        assert rule["SecurityGroupRuleId"].startswith("sgr-")
        assert (
            sum(k in rule for k in ("CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupInfo"))
            == 1
        )
    for group in _inv("describe-security-groups.json"):
        for perm in group["IpPermissions"] + group["IpPermissionsEgress"]:
            assert ("FromPort" in perm) == (perm["IpProtocol"] != "-1")
    for pl in _inv("describe-managed-prefix-lists.json"):
        entries = json.loads((SAMPLES / "inventory" / f"{pl['PrefixListId']}.json").read_text())
        assert list(entries) == ["Entries"] and entries["Entries"]


def test_scenario_has_the_required_shapes() -> None:
    enis = _inv("describe-network-interfaces.json")
    nat = [e for e in enis if e["InterfaceType"] == "nat_gateway"]
    assert nat and nat[0]["Groups"] == [] and nat[0]["RequesterManaged"]
    assert any(
        e["RequesterManaged"] and e["Groups"] and e.get("RequesterId") == "amazon-rds" for e in enis
    )
    covered = {f["ResourceId"] for f in _inv("describe-flow-logs.json")}
    subnets = {s["SubnetId"] for s in _inv("describe-subnets.json")}
    assert subnets - covered, "one subnet must be left without a flow log"
    assert any(
        f["TrafficType"] == "REJECT" and f["ResourceId"].startswith("eni-")
        for f in _inv("describe-flow-logs.json")
    )
    acls = _inv("describe-network-acls.json")
    assert any(
        not a["IsDefault"]
        and any(e["RuleAction"] == "deny" and e["RuleNumber"] < 32767 for e in a["Entries"])
        for a in acls
    )


def test_expected_is_consistent_with_the_inventory(expected: dict) -> None:
    rules = {r["SecurityGroupRuleId"]: r for r in _inv("describe-security-group-rules.json")}
    groups = {g["GroupId"] for g in _inv("describe-security-groups.json")}
    assert set(expected["rule_usage"]) == set(rules)
    for rule_id, usage in expected["rule_usage"].items():
        assert usage["group_id"] == rules[rule_id]["GroupId"]
        assert usage["direction"] == ("egress" if rules[rule_id]["IsEgress"] else "ingress")
        assert usage["status"] in set(RuleStatus)
        assert (usage["flows"] > 0) == (usage["status"] == RuleStatus.USED), rule_id
        assert usage["sole_flows"] <= usage["flows"]
    for rec in expected["recommendations"]:
        assert rec["rule_id"] in rules and rec["group_id"] in groups
        assert rec["action"] in ("remove", "narrow", "replace")
    assert set(expected["rejected"]["by_cause"]) == set(RejectCause)
    assert all(n > 0 for n in expected["rejected"]["by_cause"].values())
    assert {u["status"] for u in expected["rule_usage"].values()} == set(RuleStatus)
    assert {r["action"] for r in expected["recommendations"]} == {"remove", "narrow", "replace"}


def test_expected_ingest_accounting_matches_the_objects(
    expected: dict, flow_logs: dict[str, dict]
) -> None:
    lines: dict[str, int] = dict.fromkeys(flow_logs, 0)
    objects: dict[str, int] = dict.fromkeys(flow_logs, 0)
    for path in _objects():
        if path.is_file():
            m = KEY_RE.match(path.relative_to(SAMPLES / "s3").as_posix())
            assert m
            lines[m["fl"]] += len(gzip.decompress(path.read_bytes()).decode().splitlines()) - 1
            objects[m["fl"]] += 1
    for fl_id, acct in expected["ingest"]["per_flow_log"].items():
        assert acct["data_lines"] == lines[fl_id] == acct["rows"] + acct["quarantined"]
        assert acct["objects"] == objects[fl_id]
    assert expected["ingest"]["rows"] == sum(
        a["rows"] for a in expected["ingest"]["per_flow_log"].values()
    )
