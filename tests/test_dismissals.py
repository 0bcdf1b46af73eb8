"""Dismissals persist: keyed by the rule's content, they survive re-runs and rule-id changes and
lapse when the content changes. Expectations written before running, from the sample day's plan
(sample_logs/README.md: rds-in-3306 ``sgr-0a2752576ebbf3b85`` is unused and
recommended for removal)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from flowlens import dismissals
from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.errors import UsageError
from flowlens.inventory import snapshot_from_json
from flowlens.model.net import Rule
from flowlens.model.state import content_key
from flowlens.recommend.pipeline import recommend

DAY = date(2026, 11, 28)
MYSQL, RDS_SG = "sgr-0a2752576ebbf3b85", "sg-0387bd4e66da75c2d"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SAMPLE_INVENTORY = Path(__file__).resolve().parent.parent / "sample_logs" / "inventory"


@pytest.fixture
def dd(sample_day, tmp_path: Path) -> DataDir:
    """A private copy of the sample day's data dir (dismissals write into it)."""
    shutil.copytree(sample_day.data.root, tmp_path / "data")
    return DataDir(tmp_path / "data")


def _inventory_with(tmp_path: Path, name: str, edit) -> Path:
    out = tmp_path / name
    shutil.copytree(SAMPLE_INVENTORY, out)
    for f in ("describe-security-group-rules.json", "describe-security-groups.json"):
        p = out / f
        p.write_text(edit(p.read_text(encoding="utf-8")), encoding="utf-8")
    return out


def _kept(plan, rule_id: str):
    return next((k for k in plan.kept if k.rule_id == rule_id), None)


def test_content_key_ignores_id_and_description() -> None:
    a = Rule("ingress", 6, 3306, 3306, "cidr4", "10.0.0.0/8", "MySQL")
    assert content_key(RDS_SG, a) == content_key(
        RDS_SG, Rule("ingress", 6, 3306, 3306, "cidr4", "10.0.0.0/8", "other")
    )
    assert content_key(RDS_SG, a) != content_key(
        RDS_SG, Rule("ingress", 6, 3307, 3307, "cidr4", "10.0.0.0/8")
    )


def test_dismissal_survives_a_rerun_and_a_new_rule_id(dd: DataDir, tmp_path: Path) -> None:
    assert any(r.rule_id == MYSQL for r in recommend(dd, [DAY], write=False).recommendations)
    d = dismissals.dismiss(dd, MYSQL, "quarterly MySQL export", by="alice", now=NOW)
    for _ in range(2):  # the next night's run, and the one after
        plan = recommend(dd, [DAY], write=False, today=date(2026, 12, 1))
        assert MYSQL not in {r.rule_id for r in plan.recommendations}
        k = _kept(plan, MYSQL)
        assert k is not None and k.label == "dismissed"
        assert k.reason == "dismissed by alice on 2026-11-30, reason: quarterly MySQL export"
    # the rule re-created with another id, same content: still dismissed
    renamed = _inventory_with(
        tmp_path, "renamed", lambda t: t.replace(MYSQL, "sgr-0ffffffffffffffff")
    )
    info = snapshot_from_json([renamed], dd, taken_at=datetime(2026, 11, 29, 6, tzinfo=UTC))
    plan = recommend(dd, [DAY], write=False, snapshot=info.stamp, today=date(2026, 12, 1))
    k = _kept(plan, "sgr-0ffffffffffffffff")
    assert k is not None and k.label == "dismissed" and "quarterly MySQL export" in k.reason
    assert dismissals.load(dd) == [d]


def test_dismissal_lapses_when_the_rule_content_changes(
    dd: DataDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dismissals.dismiss(dd, MYSQL, "quarterly MySQL export", by="alice", now=NOW)
    changed = _inventory_with(tmp_path, "changed", lambda t: t.replace("3306", "3307"))
    info = snapshot_from_json([changed], dd, taken_at=datetime(2026, 11, 29, 6, tzinfo=UTC))
    plan = recommend(dd, [DAY], write=False, snapshot=info.stamp, today=date(2026, 12, 1))
    assert _kept(plan, MYSQL) is None or _kept(plan, MYSQL).label != "dismissed"
    assert dismissals.current_keys(dd).isdisjoint({dismissals.load(dd)[0].content_key})
    assert main(["dismissals", "--data-dir", str(dd.root), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["rule_id"], row["state"]) == (MYSQL, "lapsed")


def test_until_expires_and_the_table_is_in_the_catalog(
    dd: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(dd.root)]
    assert (
        main(
            ["dismiss", MYSQL, "--reason", "export", "--until", "2099-01-31", "--by", "bob", *base]
        )
        == 0
    )
    assert "dismissed sgr-0a2752576ebbf3b85" in capsys.readouterr().out
    (d,) = dismissals.load(dd)
    assert dismissals.active_reasons([d], date(2099, 1, 31)) and not dismissals.active_reasons(
        [d], date(2099, 2, 1)
    )
    con = duckdb.connect(str(dd.catalog), read_only=True)
    try:
        assert con.execute("SELECT rule_id, dismissed_by, until FROM dismissals").fetchall() == [
            (MYSQL, "bob", date(2099, 1, 31))
        ]
    finally:
        con.close()
    assert main(["dismissals", "--remove", MYSQL, *base]) == 0
    assert dismissals.load(dd) == []


def test_unknown_target_and_empty_reason_are_refused(dd: DataDir) -> None:
    with pytest.raises(UsageError, match="neither a rule id"):
        dismissals.dismiss(dd, "no-such-thing", "x", by="alice")
    with pytest.raises(UsageError, match="not in the newest inventory snapshot"):
        dismissals.dismiss(dd, "sgr-00000000000000000", "x", by="alice")
    with pytest.raises(UsageError, match="--reason"):
        dismissals.dismiss(dd, MYSQL, "  ", by="alice")


def test_the_report_shows_dismissed_rules_apart_and_the_plan_delta(
    dd: DataDir, tmp_path: Path
) -> None:
    from flowlens.report import write_report

    dismissals.dismiss(dd, MYSQL, "quarterly MySQL export", by="alice", now=NOW)
    plan = recommend(dd, [DAY], write=False, today=date(2026, 12, 1))
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json(), encoding="utf-8")
    text = write_report(dd, [DAY], tmp_path / "out", plan=path).markdown.read_text(encoding="utf-8")
    section = text.split("## Dismissed by a reviewer", 1)[1]
    assert (
        MYSQL in section
        and "dismissed by alice on 2026-11-30, reason: quarterly MySQL export" in section
    )
    assert f"**Connectivity after the plan:** {plan.delta().summary()}" in text
    assert "removes 2 paths that saw no traffic" in text  # 3 unused removals less the dismissed one
