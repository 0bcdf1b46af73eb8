"""No output claims more than the plan shows: the may-widen marker in every format (issue 13)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from recommend_scenario import DAY, write_scenario

from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.model.plan import Plan
from flowlens.recommend.inputs import Settings
from flowlens.recommend.pipeline import recommend
from flowlens.recommend.render_cli import render_cli
from flowlens.recommend.render_md import render_md
from flowlens.recommend.render_tf import render_tf
from flowlens.report import write_report


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataDir, Plan]:
    dd = write_scenario(tmp_path_factory.mktemp("claims") / "data")
    return dd, recommend(
        dd, [DAY], Settings(min_window_days=1)
    )  # also writes the recommendations table


def _widen(plan: Plan) -> list[str]:
    ids = [r.rule_id for r in plan.recommendations if r.may_widen]
    assert ids, "the scenario must hold a proposal that may widen"
    return ids


def test_the_plan_formats_mark_each_may_widen_proposal(planned: tuple[DataDir, Plan]) -> None:
    _, plan = planned
    for rule_id in _widen(plan):
        md = render_md(plan)
        assert f"### `{rule_id}`" in md
        section = md.split(f"### `{rule_id}`")[1].split("###")[0]
        assert "**may widen**" in section
        lines = render_cli(plan).splitlines()
        head = next(
            i for i, ln in enumerate(lines) if ln.startswith("# step ") and f": {rule_id} in " in ln
        )
        comments = lines[
            head : next(i for i in range(head, len(lines)) if not lines[i].startswith("#"))
        ]
        assert any(ln.startswith("#   MAY WIDEN") for ln in comments)
        tf = render_tf(plan)
        comment = next(ln for ln in tf.splitlines() if ln.startswith(f"# {rule_id} in "))
        after = tf.splitlines()[tf.splitlines().index(comment) + 1]
        assert after.startswith("# MAY WIDEN")
    narrow_only = [r for r in plan.recommendations if not r.may_widen and r.proposed]
    for rec in narrow_only:  # and only those: a subset is never marked
        tf_lines = render_tf(plan).splitlines()
        i = tf_lines.index(next(ln for ln in tf_lines if ln.startswith(f"# {rec.rule_id} in ")))
        assert not tf_lines[i + 1].startswith("# MAY WIDEN")


def test_the_html_report_shows_current_proposed_risk_reason_and_marker(
    planned: tuple[DataDir, Plan], tmp_path: Path
) -> None:
    dd, plan = planned
    widen = _widen(plan)
    for source in (None, "file"):  # from the recommendations table, and from the plan file
        plan_file = tmp_path / "plan.json"
        plan_file.write_text(plan.to_json())
        paths = write_report(
            dd, [DAY], tmp_path / f"out-{source}", plan=plan_file if source else None
        )
        page = paths.html.read_text()
        plan_table = page[page.index('id="recs-table"') :]
        plan_table = plan_table[
            : plan_table.index("</table>")
        ]  # the plan's table (groups' sections repeat rows)
        assert plan_table.count('<span class="badge widen">may widen</span>') == len(widen)
        assert "Each proposal is a subset" not in page
        n = len(plan.recommendations)
        assert f"{n - len(widen)} of {n} proposals stay inside the rule they change" in page
        v = plan.verification
        assert (
            f"Replayed against {v.flows_checked:,} accepted flows of the window: "
            f"{v.flows_cut:,} would be cut." in page
        )
        ssh = next(r for r in plan.recommendations if r.rule_id == "sgr-ssh")
        assert "ingress tcp/22 0.0.0.0/0" in re.sub(
            r"<[^>]+>", "", page
        )  # the current rule, beside the proposal
        assert ssh.risk_reason in page
        summary = paths.markdown.read_text()
        assert "no: may widen" in summary and f"{n - len(widen)} of {n} proposals" in summary
        doc = json.loads(paths.json.read_text())
        marked = [r["rule_id"] for r in doc["recommendations"] if r["may_widen"]]
        assert marked == widen and all(r["current"] for r in doc["recommendations"])
        counts = (
            "flows_checked",
            "flows_cut",
            "flows_unattributed",
            "flows_unattributed_protected",
        )
        assert {k: doc["verification"][k] for k in counts} == {k: v.to_dict()[k] for k in counts}


def test_report_without_analysis_results_fails_naming_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "data"
    empty.mkdir()
    assert (
        main(
            [
                "report",
                "--data-dir",
                str(empty),
                "--date",
                "2026-11-28",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert (
        "no analysis results for 2026-11-28" in err
        and "run 'flowlens analyze --date 2026-11-28" in err
    )
    assert not (tmp_path / "o" / "report.html").exists()


def test_report_on_a_data_dir_that_does_not_exist_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "report",
                "--data-dir",
                str(tmp_path / "nowhere"),
                "--date",
                "2026-11-28",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 1
    )
    assert "no flowlens data directory at" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()
