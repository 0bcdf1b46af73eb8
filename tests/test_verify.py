"""Staged plans: the sample plan (made on 2026-11-28, --min-window-days 14)
verified on the days after.

Expectations written before running: on 2026-11-29 a new operator, 192.0.2.50, uses SSH on the
bastion as 198.51.100.7 did; the plan narrows the bastion's SSH (sgr-093b55da14b72410e, 0.0.0.0/0)
to the two addresses seen on the sample day, so the plan is blocked by that recommendation with
that flow as the example. With nothing new on 2026-11-29..2026-12-12 (14 small days), the plan is
pending after 13 of them and ready after the 14th.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from staged_days import write_day

from flowlens.analyze import analyze
from flowlens.batch import verify_plan_dir
from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError, InputError
from flowlens.verify.record import PlanStatus
from flowlens.verify.run import plan_status, record_path, verify

DAY2 = date(2026, 11, 29)
LATER = [DAY2 + timedelta(days=i) for i in range(14)]  # 2026-11-29 .. 2026-12-12
SSH = "sgr-093b55da14b72410e"
BASTION_ENI = "eni-07a93e423b3ff6908"


def _copy(sample_day, tmp: Path) -> tuple[DataDir, Path]:
    shutil.copytree(sample_day.data.root, tmp / "data")
    plans = tmp / "plans"
    plans.mkdir()
    (plans / "plan.json").write_text(sample_day.plan.to_json(), encoding="utf-8")
    return DataDir(tmp / "data"), plans / "plan.json"


@pytest.fixture(scope="module")
def quiet_days(sample_day, tmp_path_factory: pytest.TempPathFactory) -> tuple[DataDir, Path]:
    dd, plan = _copy(sample_day, tmp_path_factory.mktemp("quiet"))
    for d in LATER:
        write_day(dd, d)
    analyze(dd, LATER)
    return dd, plan


def test_a_new_legitimate_peer_blocks_the_plan(
    sample_day, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dd, plan = _copy(sample_day, tmp_path)
    write_day(dd, DAY2, new_peer="192.0.2.50")
    analyze(dd, [DAY2])
    assert (
        main(["verify", str(plan), "--date", DAY2.isoformat(), "--data-dir", str(dd.root), "-q"])
        == 1
    )
    out = capsys.readouterr().out
    assert "blocked" in out and SSH in out and "192.0.2.50" in out
    doc = json.loads(record_path(plan).read_text())
    assert doc["status"] == "blocked" and doc["days_verified"] == 1 and doc["clean_days"] == 0
    (blocker,) = doc["blocking"]
    assert (blocker["rule_id"], blocker["group_id"], blocker["kind"]) == (
        SSH,
        "sg-0ec5c041d9a101b95",
        "narrow",
    )
    assert blocker["first_day"] == "2026-11-29" and blocker["flows"] == doc["flows_cut"] > 0
    (example,) = blocker["examples"]
    assert (
        example["peer"],
        example["port"],
        example["eni_id"],
        example["direction"],
        example["day"],
    ) == ("192.0.2.50", 22, BASTION_ENI, "ingress", "2026-11-29")
    assert example["last_seen"].startswith("2026-11-29T")
    assert doc["flows_checked"] > 0 and doc["flows_unattributed"] == 0
    assert plan_status(plan)[0] == "blocked"
    # the catalog's plan_verifications table holds the run
    con = duckdb.connect(str(dd.catalog), read_only=True)
    try:
        assert con.execute(
            "SELECT status, blocking_rules, days_verified FROM plan_verifications"
        ).fetchall() == [("blocked", SSH, 1)]
    finally:
        con.close()


def test_quiet_days_make_the_plan_ready_after_min_window_days(quiet_days) -> None:
    dd, plan = quiet_days
    rec = verify(dd, plan, LATER[:13])
    assert (rec.status, rec.clean_days, rec.totals()["flows_cut"]) == (PlanStatus.PENDING, 13, 0)
    assert "13 clean days" in rec.status_reason() and "14 needed" in rec.status_reason()
    rec = verify(dd, plan, LATER[13:])  # the next night
    assert (rec.status, rec.clean_days, len(rec.days)) == (PlanStatus.READY, 14, 14)
    assert all(d.flows_checked > 0 for d in rec.days)
    assert plan_status(plan) == ("ready", rec.status_reason())
    rec = verify(dd, plan, LATER[13:])  # a day verified again replaces its result
    assert len(rec.days) == 14


def test_run_verifies_a_directory_of_plans(quiet_days) -> None:
    dd, plan = quiet_days
    summary = verify_plan_dir(dd, LATER[:1], plan.parent)
    assert list(summary) == [str(plan)] and summary[str(plan)]["status"] in ("pending", "ready")
    assert verify_plan_dir(dd, [date(2026, 11, 28)], plan.parent)[str(plan)]["status"] == "skipped"


def test_days_inside_the_window_or_unanalysed_are_refused(quiet_days) -> None:
    dd, plan = quiet_days
    with pytest.raises(InputError, match="inside the plan's window"):
        verify(dd, plan, [date(2026, 11, 28)])
    with pytest.raises(AnalysisError, match="not analysed"):
        verify(dd, plan, [date(2026, 12, 20)])
