"""The committed sample day against its hand-written expectations (sample_logs/expected.json).

The expectations were written from the scenario and the design before any stage existed; this is
where the stages meet them. Recommendations are checked in test_recommend_sample.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import SampleDay

import flowlens
from flowlens.cli import main

COUNTED = ("flows", "connections", "sole_flows", "packets", "bytes", "peers", "ports")


def _rows(day: SampleDay, sql: str) -> list[dict[str, Any]]:
    con = flowlens.connect(day.data.root)
    try:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def test_ingest_accounts_for_every_line(sample_day: SampleDay) -> None:
    want, got = sample_day.expected["ingest"], sample_day.ingest
    assert (got.objects, got.lines, got.rows, got.quarantined) == (
        want["objects"],
        want["data_lines"],
        want["rows"],
        want["quarantined"],
    )
    assert got.lines == got.rows + got.quarantined + got.out_of_window
    per_log = {
        r["flow_log_id"]: r
        for r in _rows(sample_day, "SELECT flow_log_id, count(*) AS rows FROM flows GROUP BY ALL")
    }
    assert {k: per_log[k]["rows"] for k in want["per_flow_log"]} == {
        k: v["rows"] for k, v in want["per_flow_log"].items()
    }
    by_status = {
        r["log_status"]: r["n"]
        for r in _rows(sample_day, "SELECT log_status, count(*) AS n FROM flows GROUP BY ALL")
    }
    assert by_status == want["by_log_status"]


@pytest.fixture(scope="module")
def usage(sample_day: SampleDay) -> dict[str, dict[str, Any]]:
    return {r["rule_id"]: r for r in _rows(sample_day, "SELECT * FROM rule_usage")}


def test_every_rule_gets_its_expected_status_and_counts(
    sample_day: SampleDay, usage: dict[str, dict[str, Any]]
) -> None:
    wrong = {}
    for rule_id, want in sample_day.expected["rule_usage"].items():
        got = usage.get(rule_id)
        if got is None:
            wrong[want["name"]] = "missing from rule_usage"
            continue
        diff = {
            k: (got[k], want[k]) for k in ("status", *COUNTED) if k in want and got[k] != want[k]
        }
        if diff:
            wrong[want["name"]] = diff
    assert not wrong, wrong
    assert len(usage) == len(sample_day.expected["rule_usage"])


def test_every_status_kind_appears_with_a_reason(usage: dict[str, dict[str, Any]]) -> None:
    assert {r["status"] for r in usage.values()} == {
        "used",
        "unused",
        "unobservable",
        "no_coverage",
        "no_members",
    }
    assert all(r["status_reason"] for r in usage.values() if r["status"] != "used")


def test_rejects_are_attributed_to_their_causes(sample_day: SampleDay) -> None:
    want = sample_day.expected["rejected"]
    got = {
        r["cause"]: r["n"]
        for r in _rows(sample_day, "SELECT cause, count(*) AS n FROM rejected GROUP BY ALL")
    }
    assert got == want["by_cause"]
    assert sum(got.values()) == want["total"]
    details = _rows(sample_day, "SELECT cause, cause_detail FROM rejected")
    assert all(r["cause_detail"] for r in details)


def test_findings_are_the_expected_kinds_on_the_expected_resources(sample_day: SampleDay) -> None:
    got = _rows(sample_day, "SELECT kind, resource_id, group_id, rule_id FROM findings")
    for want in sample_day.expected["findings"]:
        keys = [k for k in ("group_id", "rule_id", "resource_id") if k in want]
        match = [g for g in got if g["kind"] == want["kind"] and all(g[k] == want[k] for k in keys)]
        assert match, f"no {want['kind']} finding for {want['name']}"
    assert {g["kind"] for g in got} == {w["kind"] for w in sample_day.expected["findings"]}


def test_no_accepted_flow_is_left_unexplained(sample_day: SampleDay) -> None:
    rows = _rows(
        sample_day, "SELECT count(*) AS n FROM conversations WHERE accepted AND status = 'no_rule'"
    )
    assert rows[0]["n"] == sample_day.expected["accepted_flows_allowed_by_no_rule"]


def test_the_readme_sql_examples_run_on_the_sample_day(sample_day: SampleDay) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Ten useful queries:\n\n```sql\n(.+?)\n```", readme, re.S)
    assert block, "README.md lacks the SQL examples"
    queries = [q.strip() for q in block.group(1).split(";") if q.strip()]
    assert len(queries) == 10
    for q in queries:
        _rows(sample_day, q)  # raises on any error
        # and through flowlens sql, whose read-only checks must admit every one of them
        assert main(["sql", "--data-dir", str(sample_day.data.root), q, "--format", "csv"]) == 0, q
