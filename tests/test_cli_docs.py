"""The front door: every command has help with an example, and the README matches --help."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowlens.cli import build_parser, main
from flowlens.cli.reference import _subparsers, render_reference, splice

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"


def test_every_command_has_help_with_an_example() -> None:
    subs = _subparsers(build_parser())
    assert subs, "no commands registered"
    for name, parser in subs.items():
        text = parser.format_help()
        assert "Example:" in text and f"flowlens {name}" in text.split("Example:", 1)[1], name


def test_a_command_parsed_alone_parses_and_helps_as_in_the_whole_command_line() -> None:
    """``flowlens COMMAND`` builds only that command's parser (flowlens/cli/__init__.py):
    its help, and what it makes of the words, are those of the whole command line."""
    whole = build_parser()
    for name, parser in _subparsers(whole).items():
        alone = _subparsers(build_parser([name]))
        assert list(alone) == [name]
        assert alone[name].format_help() == parser.format_help(), name
    words = ["analyze", "--date", "2026-11-28", "--memory-limit", "1GB", "-vv"]
    assert vars(build_parser(words[:1]).parse_args(words)) == vars(whole.parse_args(words))


def test_readme_command_reference_matches_help() -> None:
    readme = README.read_text(encoding="utf-8")
    assert splice(readme, render_reference()) == readme, (
        "README.md's command reference is stale: run `python -m "
        "flowlens.cli.reference --write README.md`"
    )


def test_ci_runs_the_readme_test_command() -> None:
    readme = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- test-command -->\n```sh\n(.+?)\n```", readme, re.S)
    assert m, "README.md lacks the marked test command"
    command = m.group(1).strip()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert command in ci
    # ... and runs it in a fresh clone inside an empty temporary directory, so nothing outside the
    # repository (no sibling folder, no untracked file) can make it pass
    [line] = [ln for ln in ci.splitlines() if command in ln]
    assert re.search(r'^git clone -q "\$PWD" "\$tmp/flowlens" && cd "\$tmp/flowlens" && ', line), (
        line
    )
    assert re.search(r"^tmp=\$\(mktemp -d\)$", ci, re.M), (
        "CI must clone into a new empty temporary directory"
    )


def test_make_check_runs_every_check_of_the_readme_test_command() -> None:
    # the README's command is what CI runs; `make check` (lint + test) must run the same checks
    readme = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- test-command -->\n```sh\n(.+?)\n```", readme, re.S)
    assert m, "README.md lacks the marked test command"
    steps = [s.strip() for s in m.group(1).split("&&")]
    checks = [s.removeprefix(".venv/bin/") for s in steps if s.startswith(".venv/bin/")]
    checks = [c for c in checks if not c.startswith("pip ")]
    assert "ruff format --check flowlens tests bench" in checks, checks
    make = (REPO / "Makefile").read_text(encoding="utf-8")
    for check in checks:
        assert re.search(rf"^\t\$\(PY\) -m {re.escape(check)}( |$)", make, re.M), check


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2


def test_readme_iam_policy_covers_every_declared_action() -> None:
    import json

    from flowlens.inventory.permissions import iam_policy
    from flowlens.recommend.apply import (
        PERMISSIONS,
        TAG_ON_CREATE_ACTIONS,
        TAG_ON_CREATE_PERMISSIONS,
    )

    readme = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- iam-policy -->\n```json\n(.+?)\n```", readme, re.S)
    assert m, "README.md lacks the marked IAM policy"
    policy = json.loads(m.group(1))["Statement"]
    statements = {s["Sid"]: set(s["Action"]) for s in policy}
    inventory = {a for s in iam_policy()["Statement"] for a in s["Action"]}  # type: ignore[index, attr-defined]
    assert statements["FlowlensInventoryReadOnly"] == inventory
    assert statements["FlowlensApplyOnly"] == set(PERMISSIONS)
    # a rollback re-creates tagged rules: EC2 checks TagSpecifications as ec2:CreateTags, which the
    # policy grants only while a rule is being authorized (no tagging of existing resources)
    [tagging] = [s for s in policy if s["Sid"] == "FlowlensApplyTagOnCreate"]
    assert set(tagging["Action"]) == set(TAG_ON_CREATE_PERMISSIONS)
    assert tagging["Resource"] == "arn:aws:ec2:*:*:security-group-rule/*"
    condition = tagging["Condition"]["StringEquals"]["ec2:CreateAction"]
    assert set(condition) == set(TAG_ON_CREATE_ACTIONS)
    assert {"s3:ListBucket", "s3:GetObject"} <= statements["FlowlensIngest"]


def test_every_listed_command_loads_and_a_mistyped_one_is_an_error() -> None:
    from flowlens.cli import COMMANDS
    from flowlens.cli._common import load_command

    assert all(callable(load_command(name).register) for name in COMMANDS)
    with pytest.raises(ModuleNotFoundError, match=r"flowlens\.cli\.analyse"):
        load_command("analyse")
