"""The pieces every stage stands on: SQL loading, atomic writes, address keys, the catalog."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from flowlens.atomic import atomic_path
from flowlens.catalog import connect, refresh_catalog
from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError
from flowlens.model.addr import addr_key, cidr_range, family_and_key, key_to_address
from flowlens.model.flow import FLOW_FILE_SCHEMA, format_fields
from flowlens.sqlfiles import all_queries, parse_query


def test_query_header_and_params_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "q.sql"
    q = parse_query(
        "-- name: q\n-- returns: rows\n-- params: $a, $b\nSELECT $a, $b, '$notaparam'\n", path
    )
    assert q.params == ("a", "b")
    with pytest.raises(
        AnalysisError, match=r"q.sql:3: declared params \['a'\] but the query uses \['a', 'c'\]"
    ):
        parse_query("-- name: q\n-- returns: rows\n-- params: $a\nSELECT $a, $c\n", path)
    with pytest.raises(AnalysisError, match="differs from the file name"):
        parse_query("-- name: other\n-- returns: rows\nSELECT 1\n", path)


def test_a_long_header_value_continues_on_indented_comment_lines(tmp_path: Path) -> None:
    text = (
        "-- name: q\n"
        "-- returns: one row per pair,\n"
        "--     both directions\n"
        "-- params: $a,\n"
        "--     $b\n"
        "-- A comment of the query, not the header.\n"
        "--     indented, still not the header\n"
        "SELECT $a, $b\n"
    )
    q = parse_query(text, tmp_path / "q.sql")
    assert (q.returns, q.params) == ("one row per pair, both directions", ("a", "b"))


def test_a_declared_spark_variant_is_split_off_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "q.sql"
    head = "-- name: q\n-- returns: rows\n-- params: $a\n-- variants: spark\n"
    q = parse_query(head + "SELECT MIN($a);\n-- variant: spark\nSELECT MAX($a)\n", path)
    assert q.sql == head + "SELECT MIN($a)\n"
    assert q.spark_sql == "SELECT MAX($a)\n"
    assert (q.sql_for("spark"), q.sql_for("trino"), q.sql_for("duckdb")) == (
        q.spark_sql,
        q.sql,
        q.sql,
    )
    plain = parse_query("-- name: q\n-- returns: rows\nSELECT 1\n", path)
    assert plain.spark_sql is None and plain.sql_for("spark") == plain.sql
    with pytest.raises(AnalysisError, match="declared params"):
        parse_query(head + "SELECT $a\n-- variant: spark\nSELECT $b\n", path)
    with pytest.raises(AnalysisError, match="declares variants"):
        parse_query(head + "SELECT $a\n", path)  # declared, not there
    with pytest.raises(AnalysisError, match="declares variants"):
        parse_query("-- name: q\n-- returns: r\nSELECT 1\n-- variant: spark\nSELECT 2\n", path)


def test_every_shipped_query_loads() -> None:
    for q in all_queries():
        assert q.returns, q.path


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    final = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(final) as tmp:
        tmp.write_text("whole")
    assert final.read_text() == "whole" and list(tmp_path.iterdir()) == [final]


@given(st.ip_addresses())
def test_addr_key_round_trips_and_orders(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    key = addr_key(str(ip))
    assert len(key) == 32
    assert key_to_address(key, ip.version) == str(ip)


def _by_ipaddress(text: str) -> tuple[int, str] | str:
    """What the model decided before its IPv4 fast path: ipaddress's verdict, or the error."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return "ValueError"
    n = int(ip) | (0xFFFF << 32) if ip.version == 4 else int(ip)
    return ip.version, f"{n:032x}"


def _by_model(text: str) -> tuple[int, str] | str:
    try:
        return family_and_key(text)
    except ValueError:
        return "ValueError"


#: Text near dotted-quad: the fast path's edges (leading zeros, 256, 4-digit octets, empty
#: octets, non-ASCII digits, signs, spaces, IPv4-mapped IPv6) must be judged as ipaddress does.
OCTETS = ["0", "00", "01", "1", "9", "10", "99", "255", "256", "999", "0255", "", "²", "+1", " 1"]
DOTTED = st.lists(
    st.one_of(st.sampled_from(OCTETS), st.text(alphabet="0123456789²٣+- :abf", max_size=4)),
    min_size=3,
    max_size=5,
).map(".".join)


@example("01.2.3.4")
@example("1.2.3.256")
@example("1.2.3.0255")
@example("1.2.3.٣")
@example("::ffff:1.2.3.4")
@example("1.2.3.4.5")
@example("255.255.255.255")
@given(st.one_of(DOTTED, st.ip_addresses().map(str), st.text(max_size=20)))
def test_family_and_key_judges_text_as_ipaddress_does(text: str) -> None:
    assert _by_model(text) == _by_ipaddress(text)
    assert _by_model(f" {text}\t") == _by_ipaddress(f" {text}\t")


@given(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32), st.ip_addresses(v=4))
def test_cidr_range_is_membership_v4(
    net_ip: ipaddress.IPv4Address, plen: int, probe: ipaddress.IPv4Address
) -> None:
    net = ipaddress.ip_network(f"{net_ip}/{plen}", strict=False)
    r = cidr_range(str(net))
    assert r.contains_key(addr_key(str(probe))) == (probe in net)


@given(st.ip_addresses(v=6), st.integers(min_value=0, max_value=128), st.ip_addresses(v=6))
def test_cidr_range_is_membership_v6(
    net_ip: ipaddress.IPv6Address, plen: int, probe: ipaddress.IPv6Address
) -> None:
    net = ipaddress.ip_network(f"{net_ip}/{plen}", strict=False)
    r = cidr_range(str(net))
    assert r.contains_key(addr_key(str(probe))) == (probe in net)


def test_format_fields_reads_log_format_and_header() -> None:
    assert format_fields("${srcaddr}  ${dstaddr}") == ["srcaddr", "dstaddr"]
    assert format_fields("srcaddr dstaddr\n") == ["srcaddr", "dstaddr"]


def test_flow_files_carry_no_partition_columns() -> None:
    assert "account_id" not in FLOW_FILE_SCHEMA.names and "date" not in FLOW_FILE_SCHEMA.names
    assert {"srcaddr", "log_status", "source_key", "flow_log_id", "extra"} <= set(
        FLOW_FILE_SCHEMA.names
    )


def test_empty_catalog_has_every_contract_table(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "d")
    refresh_catalog(dd)
    con = connect(dd)
    names = {r[0] for r in con.sql("SHOW TABLES").fetchall()}
    contract = {
        "flows",
        "tgw_flows",
        "quarantine",
        "security_groups",
        "sg_rules",
        "enis",
        "eni_groups",
        "eni_ips",
        "nacls",
        "nacl_entries",
        "prefix_list_entries",
        "flow_logs",
        "conversations",
        "rule_usage",
        "rejected",
        "findings",
        "recommendations",
        "ingest_manifest",
    }
    assert contract <= names
    assert con.execute("SELECT count(*) FROM flows").fetchone() == (0,)
    assert {"account_id", "region", "date"} <= set(con.sql("SELECT * FROM flows").columns)
