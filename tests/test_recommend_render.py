"""Renderers and the recommend command on the hand-made scenario."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from recommend_scenario import DAY, write_scenario

from flowlens.cli import main
from flowlens.model.plan import Plan
from flowlens.recommend.inputs import Settings
from flowlens.recommend.pipeline import recommend
from flowlens.recommend.render_cli import render_cli
from flowlens.recommend.render_md import render_md
from flowlens.recommend.render_tf import render_tf


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    dd = write_scenario(tmp_path_factory.mktemp("render") / "data")
    return recommend(dd, [DAY], Settings(min_window_days=1), write=False)


def test_json_has_the_design_shape(plan: Plan) -> None:
    doc = json.loads(plan.to_json())
    assert doc["window"] == {
        "start": "2026-11-28T00:00:00Z",
        "end": "2026-11-29T00:00:00Z",
        "days": 1.0,
        "analysed_days": ["2026-11-28"],
        "missing_days": [],
        "requested": {"start": "2026-11-28", "end": "2026-11-28", "days": 1},
    }
    assert set(doc["verification"]) >= {"flows_checked", "flows_cut"}
    rec = next(r for r in doc["recommendations"] if r["rule_id"] == "sgr-ssh")
    assert set(rec) >= {"rule_id", "group_id", "action", "proposed", "evidence", "risk"}
    assert set(rec["proposed"][0]) == {
        "direction",
        "ip_protocol",
        "from_port",
        "to_port",
        "peer_type",
        "peer",
        "description",
    }
    assert set(rec["evidence"]) >= {
        "flows",
        "peers",
        "ports",
        "window_days",
        "coverage",
        "connections",
    }
    assert doc["dropped"] and doc["kept"]


def test_cli_script_authorizes_everything_before_revoking(plan: Plan) -> None:
    script = render_cli(plan)
    lines = [ln for ln in script.splitlines() if ln.startswith(("authorize 'step", "revoke 'step"))]
    kinds = [ln.split()[0] for ln in lines]
    assert kinds == sorted(kinds)  # "authorize" < "revoke": all authorizations come first
    assert kinds.count("revoke") == len(plan.recommendations)
    assert "set -uo pipefail" in script.splitlines()[:12]
    assert re.search(
        r"^revoke 'step \d+' '' us-east-1 ingress sg-web sgr-ssh tcp 6 "
        r"'sg-web\tFalse\t22\t22\t0.0.0.0/0\t",
        script,
        re.M,
    )
    assert '"CidrIp":"198.51.100.7/32"' in script


def test_terraform_uses_the_per_rule_resources(plan: Plan) -> None:
    tf = render_tf(plan)
    assert re.search(r'^resource "aws_vpc_security_group_ingress_rule" "sgr_ssh_1" \{', tf, re.M)
    assert 'resource "aws_vpc_security_group_egress_rule" "sgr_s3_1"' in tf
    assert 'referenced_security_group_id = "sg-app"' in tf and 'prefix_list_id    = "pl-s3"' in tf
    assert (
        "import {\n  to       = aws_vpc_security_group_ingress_rule.retire_sgr_ssh\n"
        '  id       = "sgr-ssh"\n'
        "  provider = aws.us_east_1\n}"
    ) in tf
    assert 'resource "aws_vpc_security_group_ingress_rule" "retire_sgr_ssh" {' in tf
    assert tf.count("{") == tf.count("}")


def test_markdown_lists_recommendations_dropped_and_kept(plan: Plan) -> None:
    md = render_md(plan)
    assert "| `sgr-ssh` | `sg-web` | narrow | low | tcp/22 from 0.0.0.0/0 |" in md
    assert "## Dropped proposals" in md and "`sgr-stale`" in md
    assert "[public]" in md


def test_recommend_command_writes_each_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "data"
    write_scenario(root)
    for fmt in ("json", "md", "aws-cli", "terraform"):
        out = tmp_path / f"plan.{fmt}"
        assert (
            main(
                [
                    "recommend",
                    "--data-dir",
                    str(root),
                    "--date",
                    DAY.isoformat(),
                    "--format",
                    fmt,
                    "--out",
                    str(out),
                    "--exclude-rule",
                    "sgr-unused",
                ]
            )
            == 0
        )
        assert out.stat().st_size > 0
    assert "sgr-unused" not in [
        r["rule_id"] for r in json.loads((tmp_path / "plan.json").read_text())["recommendations"]
    ]
    assert "replay:" in capsys.readouterr().err


def test_recommend_without_analysis_results_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["recommend", "--data-dir", str(tmp_path), "--date", "2026-11-28"]) == 1
    assert "flowlens analyze" in capsys.readouterr().err
