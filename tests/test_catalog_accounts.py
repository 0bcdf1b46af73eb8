"""``account_id`` on the catalog's results views, and the views of one account (its report).

The world: account A's database group sg-0a admits account B's group sg-0b across a peering
(tests/test_analysis_accounts.py), plus an ENI no snapshot holds. The analysis's results files
carry no account; the catalog's views add it from the inventory snapshots.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
from analysis_fixtures import DAY
from test_analysis_accounts import DB, PEER, A, B, _world

import flowlens
from flowlens.analyze import analyze
from flowlens.catalog import register_views
from flowlens.datadir import DataDir
from flowlens.report.accounts import write_organisation

GHOST = "eni-0ghost"  # in the flow logs, in no snapshot


def _analysed(root: Path) -> DataDir:
    w = _world(root, b_inventoried=True)
    w.both(GHOST, "10.0.9.9", "10.0.9.10", 40001, 8080, req_flags=2, rep_flags=18)
    dd = w.write()
    analyze(dd, [DAY], threads=1)
    return dd


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[Any, ...]]:
    return con.execute(query).fetchall()


def test_every_result_names_its_account_and_none_where_no_snapshot_can(tmp_path: Path) -> None:
    dd = _analysed(tmp_path / "data")
    con = flowlens.connect(dd.root)
    try:
        assert _rows(
            con, "SELECT DISTINCT eni_id, account_id FROM conversations ORDER BY eni_id"
        ) == [("eni-0a", A), (GHOST, None)]
        # A's groups have no account_id in this world, only owner_id: the fallback names A
        assert set(_rows(con, "SELECT DISTINCT group_id, account_id FROM rule_usage")) == {
            ("sg-0a", A)
        }
        assert _rows(con, "SELECT DISTINCT account_id FROM rule_matches") == [(A,)]
        assert _rows(con, "SELECT DISTINCT account_id FROM rule_history") == [(A,)]
        # the reference into B is A's rule: attributed to B's ENI's traffic, owned by A
        assert _rows(
            con, "SELECT account_id, status FROM rule_usage WHERE rule_id = 'sgr-db-from-b'"
        ) == [(A, "used")]
        # rejected keeps the flow record's own account (of the flow log), not a lookup
        names = [c[0] for c in con.execute("DESCRIBE rejected").fetchall()]
        assert names.count("account_id") == 1
    finally:
        con.close()


def test_a_group_gone_since_and_a_snapshot_older_than_accounts_still_name_it(
    tmp_path: Path,
) -> None:
    """The day's snapshot is rewritten as flowlens wrote snapshots before accounts (no
    ``account_id`` column: ``owner_id`` only); a later snapshot no longer holds sg-0a."""
    dd = _analysed(tmp_path / "data")
    (old,) = dd.snapshots()
    for table in ("security_groups", "enis", "subnets"):
        path = dd.snapshot_dir(old) / f"{table}.parquet"
        pq.write_table(pq.read_table(path).drop_columns(["account_id"]), path)
    later = dd.snapshot_dir("20261130T000000Z")
    shutil.copytree(dd.snapshot_dir(old), later)
    groups = pq.read_table(later / "security_groups.parquet").to_pylist()
    kept = [g for g in groups if g["group_id"] != "sg-0a"]
    pq.write_table(
        pq.read_table(later / "security_groups.parquet").from_pylist(
            kept, schema=pq.read_schema(later / "security_groups.parquet")
        ),
        later / "security_groups.parquet",
    )
    con = duckdb.connect()
    try:
        register_views(con, dd)
        assert _rows(con, "SELECT COUNT(*) FROM security_groups WHERE group_id = 'sg-0a'") == [(0,)]
        assert set(_rows(con, "SELECT DISTINCT group_id, account_id FROM rule_usage")) == {
            ("sg-0a", A)
        }
        assert _rows(con, "SELECT DISTINCT account_id FROM conversations ORDER BY 1") == [
            (A,),
            (None,),
        ]
    finally:
        con.close()


def test_an_accounts_views_hold_its_rows_and_the_lookups_stay_whole(tmp_path: Path) -> None:
    dd = _analysed(tmp_path / "data")
    con = duckdb.connect()
    try:
        register_views(con, dd, account=B)
        assert _rows(con, "SELECT group_id FROM security_groups") == [("sg-0b",)]
        assert _rows(con, "SELECT eni_id FROM enis") == [("eni-0b",)]
        for table in ("rule_usage", "rule_matches", "conversations", "flows", "recommendations"):
            assert _rows(con, f"SELECT COUNT(*) FROM {table}") == [(0,)], table
        # the addresses of A's ENIs still resolve (a B rule may reference A's group)
        assert {r[0] for r in _rows(con, "SELECT address FROM eni_ips")} >= {DB, PEER}
        register_views(con, dd, account=A)
        assert _rows(con, "SELECT DISTINCT eni_id FROM conversations") == [("eni-0a",)]
        assert {r[0] for r in _rows(con, "SELECT group_id FROM security_groups")} == {"sg-0a"}
        assert _rows(con, "SELECT COUNT(*) FROM flows") != [(0,)]
    finally:
        con.close()


def test_a_single_account_data_dir_gets_no_organisation_pages(tmp_path: Path) -> None:
    w = _world(tmp_path / "data", b_inventoried=False)
    dd = w.write()
    analyze(dd, [DAY], threads=1)
    rows = write_organisation(dd, [DAY], tmp_path / "out")
    assert [r.account_id for r in rows] == [A]
    assert not (tmp_path / "out").exists()


def test_the_organisation_page_and_each_accounts_report(tmp_path: Path) -> None:
    dd = _analysed(tmp_path / "data")
    out = tmp_path / "out"
    rows = write_organisation(dd, [DAY], out)
    assert [(r.account_id, r.report) for r in rows] == [
        (A, f"accounts/{A}/report.html"),
        (B, f"accounts/{B}/report.html"),
    ]
    for name in ("report.html", "summary.md", "report.json"):
        assert (out / "accounts" / A / name).is_file() and (out / "accounts" / B / name).is_file()
    page = (out / "accounts.html").read_text()
    assert page.index(f">{A}</a>") < page.index(f">{B}</a>")
    assert "sgr-db-from-b" in page and "sg-0b" in page
    md = (out / "accounts" / A / "summary.md").read_text()
    assert (
        "sgr-db-from-b" in md and "eni-0b" not in (out / "accounts" / A / "report.html").read_text()
    )
