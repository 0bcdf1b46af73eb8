"""Inventory as users export it: without describe-vpcs the VPC resolver is still recognised.

AWS reserves the first four and the last address of every subnet, and the resolver is the
primary VPC CIDR's base plus two; so the subnets alone bound where the resolver can be.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import shutil
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from flowlens.analyze import analyze
from flowlens.analyze.addresses import candidate_resolvers, never_logged_table
from flowlens.datadir import DataDir
from flowlens.ingest.pipeline import ingest
from flowlens.ingest.source import LocalSource
from flowlens.inventory import snapshot_from_json
from flowlens.model.addr import addr_key
from flowlens.model.window import Window

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs"
#: The sample's egress udp/53 to 10.20.0.2/32, the resolver of 10.20.0.0/16.
DNS_RULE = "sgr-0ad9409a2016c62ef"


def _covers(table: dict[str, list], owner: str, address: str) -> list[str]:
    key = addr_key(address)
    return [
        w
        for o, lo, hi, w in zip(
            table["owner"], table["lo"], table["hi"], table["what"], strict=True
        )
        if o in ("*", owner) and lo <= key <= hi
    ]


def test_subnet_reserved_addresses_and_candidate_resolvers_without_describe_vpcs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "flowlens"):
        t = never_logged_table([], [("vpc-1", "10.0.5.0/24")]).to_pydict()
    for reserved in ("10.0.5.0", "10.0.5.1", "10.0.5.2", "10.0.5.3", "10.0.5.255"):
        assert _covers(t, "vpc-1", reserved), reserved
    for host in ("10.0.5.4", "10.0.5.254"):
        assert not _covers(t, "vpc-1", host), host
    # The VPC could be 10.0.0.0/16 (resolver 10.0.0.2) or 10.0.4.0/22
    # (10.0.4.2): both are candidates.
    assert any("VPC resolver" in w for w in _covers(t, "vpc-1", "10.0.0.2"))
    assert any("VPC resolver" in w for w in _covers(t, "vpc-1", "10.0.4.2"))
    assert not _covers(
        t, "vpc-2", "10.0.5.2"
    )  # another VPC's rule is not judged by vpc-1's subnets
    assert "describe-vpcs" in caplog.text and "vpc-1" in caplog.text


def test_with_describe_vpcs_the_resolver_is_pinned_and_no_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "flowlens"):
        t = never_logged_table([("vpc-1", "10.0.0.0/16")], [("vpc-1", "10.0.5.0/24")]).to_pydict()
    assert _covers(t, "vpc-1", "10.0.0.2") == ["the VPC resolver 10.0.0.2 (VPC+2) of vpc-1"]
    assert not _covers(t, "vpc-1", "10.0.4.2")  # no candidate guessing once the CIDR is known
    assert caplog.text == ""


def test_candidates_never_fall_on_an_assignable_address_of_the_subnet() -> None:
    subnet = ipaddress.ip_network("10.1.64.0/20")
    hosts = {str(a) for a in list(subnet.hosts())[3:-1]}  # what AWS lets ENIs hold
    assert not {c for _, c in candidate_resolvers(subnet)} & hosts


@pytest.fixture(scope="module")
def no_vpcs_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataDir, date]:
    expected = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))
    day = date.fromisoformat(expected["window"]["start"][:10])
    exports = tmp_path_factory.mktemp("exports")
    for f in (SAMPLE / "inventory").glob("*.json"):
        if f.name != "describe-vpcs.json":
            shutil.copy(f, exports / f.name)
    dd = DataDir(tmp_path_factory.mktemp("novpcs") / "data")
    ingest(LocalSource(SAMPLE / "s3"), [day], dd, workers=2)
    snapshot_from_json([exports], dd, taken_at=Window.day(day).end)
    analyze(dd, [day])
    return dd, day


def test_sample_without_describe_vpcs_calls_the_dns_to_resolver_rule_unobservable(
    no_vpcs_day: tuple[DataDir, date],
) -> None:
    dd, day = no_vpcs_day
    usage = {
        r["rule_id"]: r
        for r in pq.read_table(dd.results_dir(day) / "rule_usage.parquet").to_pylist()
    }
    rule = usage[DNS_RULE]
    assert rule["status"] == "unobservable", rule
    assert "VPC resolver" in rule["status_reason"] and "10.20.0.2" in rule["status_reason"]
