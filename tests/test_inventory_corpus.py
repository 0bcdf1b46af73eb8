"""Every AWS API example of the conformance corpus (tests/data/corpus) loads with the
meaning its README states."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from flowlens.datadir import DataDir
from flowlens.errors import InputError
from flowlens.inventory import build_inventory, snapshot_from_json
from flowlens.inventory.from_json import read_files
from flowlens.model.addr import addr_key


def _rows(files: list[Path], table: str) -> list[dict[str, Any]]:
    raw, _ = read_files(files)
    return build_inventory(raw).tables[table].to_pylist()


def _sg(corpus: Path, name: str) -> Path:
    return corpus / "aws-api" / "security-groups" / name


def test_all_protocols_rule_without_port_keys_has_null_ports(corpus: Path) -> None:
    rules = _rows([_sg(corpus, "awscli-describe-security-groups.json")], "sg_rules")
    by_peer = {(r["direction"], r["peer"]): r for r in rules}
    self_ref = by_peer[("ingress", "sg-903004f8")]
    assert (self_ref["ip_protocol"], self_ref["from_port"], self_ref["to_port"]) == (-1, None, None)
    assert self_ref["peer_type"] == "sg" and self_ref["peer_owner_id"] == "123456789012"
    ssh = by_peer[("ingress", "203.0.113.0/24")]
    assert (ssh["ip_protocol"], ssh["protocol_name"], ssh["from_port"], ssh["to_port"]) == (
        6,
        "tcp",
        22,
        22,
    )
    assert ssh["description"] == "Access from NY office" and ssh["vpc_id"] == "vpc-1a2b3c4d"
    egress = by_peer[("egress", "0.0.0.0/0")]
    assert egress["peer_family"] == 4 and egress["peer_lo"] == addr_key("0.0.0.0")
    assert len(rules) == 3 and {r["rule_id_source"] for r in rules} == {"derived"}
    assert all(r["rule_id"].startswith("sgr-derived-") for r in rules)


def test_icmp_type_3_code_4_is_from_3_to_4(corpus: Path) -> None:
    [rule] = _rows([_sg(corpus, "awscli-authorize-security-group-ingress-ex4.json")], "sg_rules")
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == (1, 3, 4)
    assert rule["rule_id"] == "sgr-0de3811019069b787" and rule["rule_id_source"] == "api"


def test_icmpv6_all_types_and_ipv6_peer(corpus: Path) -> None:
    [rule] = _rows([_sg(corpus, "awscli-authorize-security-group-ingress-ex6.json")], "sg_rules")
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == (58, -1, -1)
    assert rule["peer_type"] == "cidr6" and rule["peer_family"] == 6
    assert (rule["peer_lo"], rule["peer_hi"]) == ("0" * 32, "f" * 32)


def test_ipv6_cidr_rule_bounds(corpus: Path) -> None:
    [rule] = _rows([_sg(corpus, "awscli-authorize-security-group-ingress-ex5.json")], "sg_rules")
    assert rule["peer"] == "2001:db8:1234:1a00::/64"
    assert rule["peer_lo"] <= addr_key("2001:db8:1234:1a00::7") <= rule["peer_hi"]


def test_prefix_list_rule(corpus: Path) -> None:
    [rule] = _rows([_sg(corpus, "awscli-authorize-security-group-ingress-ex8.json")], "sg_rules")
    assert (rule["peer_type"], rule["peer"]) == ("prefix_list", "pl-0721453c7ac4ec009")
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == (-1, None, None)
    assert rule["peer_family"] is None and rule["peer_lo"] is None


def test_sg_reference_rules_keep_owner(corpus: Path) -> None:
    ingress = _rows([_sg(corpus, "awscli-authorize-security-group-ingress-ex2.json")], "sg_rules")
    egress = _rows([_sg(corpus, "awscli-authorize-security-group-egress-ex2.json")], "sg_rules")
    assert [(r["direction"], r["peer"], r["peer_owner_id"]) for r in ingress + egress] == [
        ("ingress", "sg-1a2b3c4d", "123456789012"),
        ("egress", "sg-0aad1c26bbeec5c22", "123456789012"),
    ]


def test_doc_example_echoing_icmp_as_tcp_is_kept_without_crashing(corpus: Path) -> None:
    rules = _rows([_sg(corpus, "awscli-authorize-security-group-ingress-ex3.json")], "sg_rules")
    odd = next(r for r in rules if r["rule_id"] == "sgr-0a133dd4493944b87")
    assert (odd["ip_protocol"], odd["from_port"], odd["to_port"]) == (6, -1, -1)
    assert len(rules) == 2


def test_default_sg_rules_two_egress_rules_and_self_reference(corpus: Path) -> None:
    rules = _rows(
        [
            _sg(corpus, "awscli-describe-security-group-rules-ex1.json"),
            _sg(corpus, "awscli-describe-security-group-rules-ex2.json"),
        ],
        "sg_rules",
    )
    assert len(rules) == 3  # ex2 repeats one rule of ex1: deduplicated by sgr- id
    egress = sorted((r["peer_type"], r["peer"]) for r in rules if r["direction"] == "egress")
    assert egress == [("cidr4", "0.0.0.0/0"), ("cidr6", "::/0")]
    [self_ref] = [r for r in rules if r["direction"] == "ingress"]
    assert self_ref["peer"] == self_ref["group_id"] == "sg-1234567890abcdef0"
    assert all(r["from_port"] is None for r in rules)  # -1 given as -1/-1: ports do not apply


def test_stale_peer_references_are_recorded(corpus: Path) -> None:
    raw, _ = read_files([_sg(corpus, "awscli-describe-stale-security-groups.json")])
    stale = build_inventory(raw).tables["stale_sg_rules"].to_pylist()
    assert {(s["group_id"], s["direction"], s["peer"]) for s in stale} == {
        ("sg-fe6fba9a", "egress", "sg-ef6fba8b"),
        ("sg-5fa68d3a", "ingress", "sg-279ab042"),
    }
    for s in stale:
        assert (s["peer_vpc_id"], s["peering_connection_id"], s["peering_status"]) == (
            "vpc-7a20e51f",
            "pcx-b04deed9",
            "active",
        )
        assert (s["ip_protocol"], s["from_port"], s["to_port"]) == (6, 22, 22)


def test_stale_marks_matching_rule(corpus: Path, tmp_path: Path) -> None:
    sg = tmp_path / "sgs.json"
    sg.write_text("""{"SecurityGroups": [
      {"GroupId": "sg-5fa68d3a", "GroupName": "MySG2", "VpcId": "vpc-11223344",
      "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "UserIdGroupPairs": [{"GroupId": "sg-279ab042", "VpcId": "vpc-7a20e51f",
                              "VpcPeeringConnectionId": "pcx-b04deed9"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
      "IpPermissionsEgress": []}]}""")
    rules = _rows([sg, _sg(corpus, "awscli-describe-stale-security-groups.json")], "sg_rules")
    assert {r["peer"]: r["stale"] for r in rules} == {"sg-279ab042": True, "10.0.0.0/8": False}
    assert {r["peer"]: r["peering_connection_id"] for r in rules}["sg-279ab042"] == "pcx-b04deed9"


def test_security_group_references_trailing_space_vpc_id_is_trimmed(corpus: Path) -> None:
    [ref] = _rows([_sg(corpus, "awscli-describe-security-group-references.json")], "sg_references")
    assert ref == {
        "group_id": "sg-bbbbb22222",
        "referencing_vpc_id": "vpc-aaaaaaaa",
        "peering_connection_id": "pcx-b04deed9",
        "transit_gateway_id": None,
    }


def test_cloudmapper_chain_of_seven_sgs(corpus: Path) -> None:
    f = _sg(corpus, "cloudmapper-demo-ec2-describe-security-groups.json")
    groups = _rows([f], "security_groups")
    rules = _rows([f], "sg_rules")
    assert len(groups) == 7
    assert [g["group_id"] for g in groups if g["is_default"]] == ["sg-00000001"]
    assert sorted(g["group_id"] for g in groups if g["group_name"] == "Endpint") == [
        "sg-00000006",
        "sg-00000007",
    ]
    per_sg = {
        g["group_id"]: sum(1 for r in rules if r["group_id"] == g["group_id"]) for g in groups
    }
    # each SG has one allow-all egress; sg-2 (two office CIDRs) and sg-4 (two SG
    # pairs) have two ingress.
    assert per_sg == {
        "sg-00000001": 2,
        "sg-00000002": 3,
        "sg-00000003": 2,
        "sg-00000004": 3,
        "sg-00000005": 2,
        "sg-00000006": 2,
        "sg-00000007": 2,
    }
    refs = {(r["group_id"], r["peer"]) for r in rules if r["peer_type"] == "sg"}
    assert refs == {
        ("sg-00000001", "sg-00000001"),
        ("sg-00000004", "sg-00000003"),
        ("sg-00000004", "sg-00000002"),
        ("sg-00000005", "sg-00000004"),
        ("sg-00000006", "sg-00000004"),
        ("sg-00000007", "sg-00000002"),
    }
    offices = sorted(
        r["peer"] for r in rules if r["group_id"] == "sg-00000002" and r["direction"] == "ingress"
    )
    assert offices == ["1.1.1.1/32", "2.2.2.0/28"]  # 2.2.2.2/28 canonicalised as the EC2 API does
    assert len({r["rule_id"] for r in rules}) == len(rules) == 16


def _eni_file(corpus: Path, name: str) -> Path:
    return corpus / "aws-api" / "network-interfaces" / name


def test_describe_network_interfaces_without_interface_type(corpus: Path) -> None:
    f = _eni_file(corpus, "awscli-describe-network-interfaces-ex1.json")
    enis = {e["eni_id"]: e for e in _rows([f], "enis")}
    assert enis["eni-e5aa89a3"]["interface_type"] is None
    assert enis["eni-e5aa89a3"]["instance_id"] == "i-1234567890abcdef0"
    assert (
        enis["eni-e5aa89a3"]["public_ip"] == "203.0.113.12"
        and enis["eni-e5aa89a3"]["region"] == "us-east-1"
    )
    ips = {(i["eni_id"], i["address"], i["kind"]) for i in _rows([f], "eni_ips")}
    assert ips == {
        ("eni-e5aa89a3", "10.0.1.17", "primary4"),
        ("eni-e5aa89a3", "203.0.113.12", "public4"),
        ("eni-f9ba99bf", "10.0.1.149", "primary4"),
        ("eni-f9ba99bf", "198.51.100.0", "public4"),
    }
    assert [(g["eni_id"], g["group_id"]) for g in _rows([f], "eni_groups")] == [
        ("eni-e5aa89a3", "sg-8637d3e3"),
        ("eni-f9ba99bf", "sg-8637d3e3"),
    ]


def test_secondary_private_ip(corpus: Path) -> None:
    ips = _rows([_eni_file(corpus, "awscli-describe-network-interfaces-ex2.json")], "eni_ips")
    assert [(i["address"], i["kind"]) for i in ips] == [
        ("10.0.1.55", "primary4"),
        ("10.0.1.117", "secondary4"),
    ]
    [eni] = _rows([_eni_file(corpus, "awscli-describe-network-interfaces-ex2.json")], "enis")
    assert (
        eni["status"] == "available"
        and eni["instance_id"] is None
        and eni["tags"] == [("Purpose", "Prod")]
    )


def test_create_network_interface_shapes(corpus: Path) -> None:
    files = [_eni_file(corpus, f"awscli-create-network-interface-ex{i}.json") for i in (1, 2, 3, 4)]
    enis = {e["eni_id"]: e for e in _rows(files, "enis")}
    assert enis["eni-034acc2885e862b65"]["interface_type"] == "efa"
    ct = enis["eni-0c133586e08903d0b"]
    assert (ct["tcp_established_timeout"], ct["udp_timeout"], ct["udp_stream_timeout"]) == (
        86400,
        60,
        None,
    )
    assert enis["eni-0492b355f0cf3b3f8"]["requester_managed"] is False
    ips = {(i["eni_id"], i["kind"]): i for i in _rows(files, "eni_ips")}
    v6 = ips[("eni-05da417453f9a84bf", "ipv6")]
    assert v6["address"] == "2600:1f13:cfe:3650:a1dc:237c:393a:4ba7" and v6["family"] == 6
    assert v6["lo"] == v6["hi"] == addr_key(v6["address"])


def test_network_acls_entries_in_rule_order(corpus: Path) -> None:
    f = corpus / "aws-api" / "network-acls" / "awscli-describe-network-acls.json"
    entries = [e for e in _rows([f], "nacl_entries") if e["nacl_id"] == "acl-0e2a78e4e2EXAMPLE"]
    assert [(e["direction"], e["rule_number"], e["rule_action"], e["cidr"]) for e in entries] == [
        ("ingress", 100, "allow", "0.0.0.0/0"),
        ("ingress", 101, "allow", "::/0"),
        ("ingress", 32767, "deny", "0.0.0.0/0"),
        ("ingress", 32768, "deny", "::/0"),
        ("egress", 100, "allow", "0.0.0.0/0"),
        ("egress", 101, "allow", "::/0"),
        ("egress", 32767, "deny", "0.0.0.0/0"),
        ("egress", 32768, "deny", "::/0"),
    ]
    assert {e["protocol"] for e in entries} == {-1} and entries[1]["family"] == 6
    nacls = _rows([f], "nacls")
    assert [(n["nacl_id"], n["is_default"]) for n in nacls] == [
        ("acl-0ea1f54ca7EXAMPLE", True),
        ("acl-0e2a78e4e2EXAMPLE", True),
    ]


def test_managed_prefix_lists_and_entries_by_file_name(corpus: Path, tmp_path: Path) -> None:
    pl_dir = corpus / "aws-api" / "prefix-lists"
    entries_file = tmp_path / "pl-0123456abcabcabc1.json"
    shutil.copy(pl_dir / "awscli-get-managed-prefix-list-entries.json", entries_file)
    files = [pl_dir / "awscli-describe-managed-prefix-lists.json", entries_file]
    lists = {p["prefix_list_id"]: p for p in _rows(files, "prefix_lists")}
    assert lists["pl-0123456abcabcabc1"]["address_family"] == "IPv4"
    assert lists["pl-11223344556677aab"]["region"] == "us-west-2"  # from the ARN
    assert not any(p["aws_managed"] for p in lists.values())
    entries = _rows(files, "prefix_list_entries")
    assert [(e["prefix_list_id"], e["version"], e["cidr"], e["description"]) for e in entries] == [
        ("pl-0123456abcabcabc1", 1, "10.0.0.0/16", "vpc-a"),
        ("pl-0123456abcabcabc1", 1, "10.2.0.0/16", "vpc-b"),
    ]


def test_entries_file_without_list_id_in_its_name_is_refused(corpus: Path) -> None:
    f = corpus / "aws-api" / "prefix-lists" / "awscli-get-managed-prefix-list-entries.json"
    with pytest.raises(
        InputError, match=r"awscli-get-managed-prefix-list-entries\.json.*pl-0123abcd\.json"
    ):
        read_files([f])


def test_older_describe_prefix_lists_is_aws_managed_with_inline_cidrs(corpus: Path) -> None:
    f = corpus / "aws-api" / "prefix-lists" / "awscli-describe-prefix-lists.json"
    [pl] = _rows([f], "prefix_lists")
    assert pl["prefix_list_id"] == "pl-63a5400a" and pl["aws_managed"] is True
    assert [(e["cidr"], e["family"]) for e in _rows([f], "prefix_list_entries")] == [
        ("54.231.0.0/17", 4)
    ]


def test_flow_logs_and_their_resource_types(corpus: Path) -> None:
    f = corpus / "aws-api" / "flow-log-config" / "awscli-describe-flow-logs.json"
    logs = {fl["flow_log_id"]: fl for fl in _rows([f], "flow_logs")}
    cwl, s3 = logs["fl-aabbccdd112233445"], logs["fl-01234567890123456"]
    assert (cwl["resource_type"], cwl["traffic_type"], cwl["max_aggregation_interval"]) == (
        "subnet",
        "ALL",
        600,
    )
    assert (cwl["destination_type"], cwl["destination"]) == ("cloud-watch-logs", "FlowLogGroup")
    assert (s3["resource_type"], s3["traffic_type"], s3["max_aggregation_interval"]) == (
        "vpc",
        "ACCEPT",
        60,
    )
    assert s3["destination"] == "arn:aws:s3:::my-flow-log-bucket/custom" and s3[
        "log_format"
    ].startswith("${version} ${vpc-id}")
    assert cwl["creation_time"].isoformat() == "2018-02-21T13:22:12.644000+00:00"


def test_every_corpus_file_loads_into_one_snapshot(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "api"
    shutil.copytree(corpus / "aws-api", folder)
    entries = folder / "prefix-lists" / "awscli-get-managed-prefix-list-entries.json"
    entries.rename(entries.with_name("pl-0123456abcabcabc1.json"))
    dd = DataDir(tmp_path / "data")
    info = snapshot_from_json([folder], dd)
    assert len(info.inputs) == len(list((corpus / "aws-api").rglob("*.json")))
    counts = info.row_counts
    assert counts["security_groups"] == 8 and counts["enis"] == 7 and counts["nacl_entries"] == 12
    assert counts["stale_sg_rules"] == 2 and counts["flow_logs"] == 2
    assert dd.snapshots() == [info.stamp]
