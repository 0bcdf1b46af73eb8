"""plan.tf parses as HCL2 with every AWS string literal; plan.sh runs against a stub
``aws`` (issues 13, 14).

The stub records every call and keeps the security-group rules as files, so a full run, a dry
run, a run that fails midway and its re-run can be checked by the calls made and the rules
left. No Terraform binary is used: python-hcl2's parser (lark grammar of HCL2) is the check,
plus a structural rule HCL has and that parser does not enforce (a one-line block holds at
most one argument: we write no one-line blocks at all).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import process_escape_sequences
from lark import Token, Tree
from recommend_scenario import DAY, write_scenario

from flowlens.model.plan import Plan, Recommendation
from flowlens.recommend.inputs import Settings
from flowlens.recommend.pipeline import recommend
from flowlens.recommend.render_cli import render_cli
from flowlens.recommend.render_md import render_md
from flowlens.recommend.render_tf import render_tf

PAYLOAD = '${path.module} %{ if true }y%{ endif } $${x} %%{y} "q" back\\slash\nnew line'
EVIL_ID = "sgr-evil\ntouch PWNED"
ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    dd = write_scenario(tmp_path_factory.mktemp("planfiles") / "data")
    return recommend(dd, [DAY], Settings(min_window_days=1), write=False)


def _with(plan: Plan, **changes: Any) -> Plan:
    return replace(plan, recommendations=tuple(replace(r, **changes) for r in plan.recommendations))


def _payload_plan(plan: Plan) -> Plan:
    """Every description carries the interpolation payload; the first rule id
    a newline and a command."""
    recs: list[Recommendation] = []
    for i, r in enumerate(plan.recommendations):
        r = replace(
            r,
            current=replace(r.current, description=PAYLOAD),
            proposed=tuple(replace(p, description=PAYLOAD) for p in r.proposed),
            account_id=ACCOUNT,
        )
        recs.append(replace(r, rule_id=EVIL_ID) if i == 0 else r)
    return replace(plan, recommendations=tuple(recs))


# ---- Terraform ----------------------------------------------------------------------------


def _string_value(node: Tree) -> str:
    """The value of an HCL quoted string; fails on any interpolation or directive in it."""
    out = []
    for part in node.find_data("string_part"):
        child = part.children[0]
        assert isinstance(child, Token), f"template sequence in a string: {part.pretty()}"
        if child.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
            out.append(str(child)[1:])  # $${ → ${, %%{ → %{
        else:
            assert child.type == "STRING_CHARS", child.type
            out.append(process_escape_sequences(str(child)))
    return "".join(out)


def _attributes(tree: Tree, name: str) -> Iterator[Tree]:
    for attr in tree.find_data("attribute"):
        key = next(attr.children[0].scan_values(lambda t: isinstance(t, Token)))
        if str(key) == name:
            yield attr


def test_terraform_is_hcl2_with_a_provider_header(plan: Plan) -> None:
    doc = hcl2.loads(render_tf(_with(plan, account_id=ACCOUNT)))
    aws = doc["terraform"][0]["required_providers"][0]["aws"]
    assert aws["source"] == '"hashicorp/aws"'
    provider = doc["provider"][0]['"aws"']
    assert provider["region"] == '"us-east-1"' and provider["allowed_account_ids"] == [
        f'"{ACCOUNT}"'
    ]
    # every rule to revoke is imported into a resource that exists in the file
    resources = {
        f"{t.strip(chr(34))}.{n.strip(chr(34))}"
        for block in doc["resource"]
        for t, names in block.items()
        for n in names
    }
    imports = doc["import"]
    assert len(imports) == len(plan.recommendations)
    for block in imports:
        assert block["to"].strip("${}") in resources
        assert block["id"].startswith('"sgr-')


def test_terraform_writes_no_one_line_block(plan: Plan) -> None:
    """HCL allows one argument in a one-line block; the old revocations had two. We write none."""
    tf = render_tf(_payload_plan(plan))
    code = [ln for ln in tf.splitlines() if not ln.lstrip().startswith("#")]
    assert not [ln for ln in code if re.search(r"\{.*=.*\}", ln) and "${" not in ln]


def test_aws_strings_come_out_of_terraform_literally(plan: Plan) -> None:
    tf = render_tf(_payload_plan(plan))
    tree = hcl2.parses_to_tree(tf)
    descriptions = [
        _string_value(next(a.find_data("string"))) for a in _attributes(tree, "description")
    ]
    assert descriptions and set(descriptions) == {PAYLOAD}
    ids = [_string_value(next(a.find_data("string"))) for a in _attributes(tree, "id")]
    assert EVIL_ID in ids
    # the newline id never leaves its comment or its string
    assert not any(ln.startswith("touch") for ln in tf.splitlines())


# ---- the AWS CLI script -------------------------------------------------------------------

STUB = r'''#!PYTHON
"""A stub aws CLI: records calls, keeps SG rules as files in $STUB_STATE/rules/<id>."""
import json, os, sys
from pathlib import Path
state = Path(os.environ["STUB_STATE"])
args = sys.argv[1:]
with (state / "calls.jsonl").open("a") as f:
    f.write(json.dumps(args) + "\n")
def opt(name):
    return args[args.index(name) + 1] if name in args else None
def fail(code, msg):
    print(f"An error occurred ({code}) when calling the operation: {msg}", file=sys.stderr)
    sys.exit(254)
if args[:2] == ["sts", "get-caller-identity"]:
    print(os.environ.get("STUB_ACCOUNT", "111122223333")); sys.exit(0)
op = args[1]
if op == "describe-security-group-rules":
    f = state / "rules" / opt("--security-group-rule-ids")
    if not f.exists():
        fail("InvalidSecurityGroupRuleId.NotFound", "not found")
    print(f.read_text()); sys.exit(0)
if "--dry-run" in args:
    fail("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
if op.startswith("authorize-"):
    key = op + opt("--group-id") + opt("--ip-permissions")
    done = state / "authorized.json"
    have = json.loads(done.read_text()) if done.exists() else []
    if key in have:
        fail("InvalidPermission.Duplicate", "the specified rule already exists")
    done.write_text(json.dumps(have + [key])); sys.exit(0)
if op.startswith("revoke-"):
    rule = opt("--security-group-rule-ids")
    if rule in os.environ.get("STUB_FAIL_REVOKE", "").split(","):
        fail("UnauthorizedOperation", "not allowed")
    f = state / "rules" / rule
    if not f.exists():
        fail("InvalidSecurityGroupRuleId.NotFound", "not found")
    f.unlink(); sys.exit(0)
fail("InvalidAction", " ".join(args))
'''


@pytest.fixture
def stub(tmp_path: Path) -> Path:
    """A directory with the stub ``aws`` and its state; returns the state dir."""
    bindir, state = tmp_path / "bin", tmp_path / "state"
    bindir.mkdir()
    (state / "rules").mkdir(parents=True)
    aws = bindir / "aws"
    aws.write_text(STUB.replace("#!PYTHON", "#!" + sys.executable))
    aws.chmod(aws.stat().st_mode | stat.S_IEXEC)
    return state


def _live_line(rec: Recommendation) -> str:
    """describe-security-group-rules --output text for the rule as planned (AWS CLI text format)."""
    cur = rec.current
    names = {6: "tcp", 17: "udp", 1: "icmp", -1: "-1"}
    ported = cur.ip_protocol in (6, 17, 1, 58)
    ports = [str(cur.from_port), str(cur.to_port)] if ported else ["-1", "-1"]
    peers = [
        cur.peer if cur.peer_type == t else "None" for t in ("cidr4", "cidr6", "prefix_list", "sg")
    ]
    return "\t".join(
        [
            names.get(cur.ip_protocol, str(cur.ip_protocol)),
            rec.group_id,
            "True" if cur.direction == "egress" else "False",
            *ports,
            *peers,
        ]
    )


def _seed(state: Path, plan: Plan) -> None:
    for rec in plan.recommendations:
        (state / "rules" / rec.rule_id).write_text(_live_line(rec))


def _run(script: str, state: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    path = state.parent / "plan.sh"
    path.write_text(script)
    full = {
        "PATH": f"{state.parent / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "STUB_STATE": str(state),
        **env,
    }
    return subprocess.run(
        ["bash", str(path), *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=state.parent,
        timeout=60,
        check=False,
    )


def _calls(state: Path) -> list[list[str]]:
    f = state / "calls.jsonl"
    return [json.loads(line) for line in f.read_text().splitlines()] if f.exists() else []


def _ops(state: Path) -> list[str]:
    return [c[1] for c in _calls(state)]


def test_the_script_is_valid_bash(plan: Plan, tmp_path: Path) -> None:
    for p in (plan, _payload_plan(plan)):
        (tmp_path / "plan.sh").write_text(render_cli(p))
        subprocess.run(["bash", "-n", str(tmp_path / "plan.sh")], check=True)


def test_a_full_run_checks_identity_then_authorizes_then_revokes(plan: Plan, stub: Path) -> None:
    _seed(stub, plan)
    res = _run(render_cli(plan), stub, "--account", ACCOUNT)
    assert res.returncode == 0, res.stderr
    ops = _ops(stub)
    assert ops[0] == "get-caller-identity"
    mutating = [o for o in ops if o.startswith(("authorize-", "revoke-"))]
    n_auth = sum(1 for r in plan.recommendations if r.proposed)
    assert [o.split("-")[0] for o in mutating] == ["authorize"] * n_auth + ["revoke"] * len(
        plan.recommendations
    )
    for call in _calls(stub)[1:]:
        assert (
            call[call.index("--region") + 1] == "us-east-1"
        )  # every call pinned to the plan's region
    revokes = [c for c in _calls(stub) if c[1].startswith("revoke-")]
    for c in revokes:  # each revoke comes right after the check of that very rule
        i = _calls(stub).index(c)
        before = _calls(stub)[i - 1]
        assert before[1] == "describe-security-group-rules"
        assert (
            before[before.index("--security-group-rule-ids") + 1]
            == c[c.index("--security-group-rule-ids") + 1]
        )
    assert list((stub / "rules").iterdir()) == []


def test_a_dry_run_changes_nothing(plan: Plan, stub: Path) -> None:
    _seed(stub, plan)
    res = _run(render_cli(plan), stub, "--dry-run", "--account", ACCOUNT)
    assert res.returncode == 0, res.stderr
    assert "would revoke (dry run)" in res.stdout and "dry run: nothing changed" in res.stdout
    assert all("--dry-run" in c for c in _calls(stub) if c[1].startswith(("authorize-", "revoke-")))
    assert len(list((stub / "rules").iterdir())) == len(plan.recommendations)
    assert not (stub / "authorized.json").exists()


def test_a_rerun_after_a_failure_midway_finishes_the_plan(plan: Plan, stub: Path) -> None:
    _seed(stub, plan)
    victim = plan.recommendations[1].rule_id
    first = _run(render_cli(plan), stub, "--account", ACCOUNT, STUB_FAIL_REVOKE=victim)
    assert first.returncode == 1
    assert "1 revocation(s) not done" in first.stderr
    assert [p.name for p in (stub / "rules").iterdir()] == [victim]  # the others went on
    second = _run(render_cli(plan), stub, "--account", ACCOUNT)
    assert second.returncode == 0, second.stderr
    assert "already authorized (an earlier run), kept" in second.stdout
    assert "no longer exists (revoked by an earlier run?), skipped" in second.stdout
    assert list((stub / "rules").iterdir()) == []


def test_the_wrong_account_touches_nothing(plan: Plan, stub: Path) -> None:
    _seed(stub, plan)
    res = _run(render_cli(_with(plan, account_id=ACCOUNT)), stub, STUB_ACCOUNT="999999999999")
    assert res.returncode == 1
    assert "credentials are for account 999999999999, the plan is for 111122223333" in res.stderr
    assert _ops(stub) == ["get-caller-identity"]


def test_an_unknown_account_must_be_named(plan: Plan, stub: Path) -> None:
    res = _run(render_cli(plan), stub)  # the scenario's inventory records no owner account
    assert res.returncode == 2 and "pass --account ID" in res.stderr
    assert _ops(stub) == []


def test_a_rule_changed_since_the_plan_is_not_revoked(plan: Plan, stub: Path) -> None:
    _seed(stub, plan)
    changed = plan.recommendations[0]
    line = _live_line(changed).split("\t")
    line[5] = "192.168.77.0/24" if changed.current.peer_type == "cidr4" else line[5]
    line[3] = "1"  # the ports changed in place
    (stub / "rules" / changed.rule_id).write_text("\t".join(line))
    res = _run(render_cli(plan), stub, "--account", ACCOUNT)
    assert res.returncode == 1
    assert f"refusing to revoke {changed.rule_id}: it changed since the plan" in res.stderr
    assert [p.name for p in (stub / "rules").iterdir()] == [changed.rule_id]


def test_a_newline_in_an_id_runs_nothing(plan: Plan, stub: Path) -> None:
    evil = _payload_plan(_with(plan, account_id=ACCOUNT))
    script = render_cli(evil)
    assert "# step 1: sgr-evil?touch PWNED in" in script  # the comment carries it defused
    assert [
        ln for ln in script.splitlines() if ln.startswith("touch")
    ] == [  # only inside quoted arguments
        ln for ln in script.splitlines() if ln.startswith("touch PWNED' ")
    ]
    res = _run(script, stub)
    assert not (stub.parent / "PWNED").exists()
    assert res.returncode in (0, 1), res.stderr
    revoked = [c for c in _calls(stub) if c[1] == "describe-security-group-rules"]
    assert EVIL_ID in [
        c[c.index("--security-group-rule-ids") + 1] for c in revoked
    ]  # passed as one argument


def test_a_newline_in_an_id_stays_on_its_markdown_line(plan: Plan) -> None:
    md = render_md(_payload_plan(plan))
    assert "### `sgr-evil?touch PWNED` in" in md
    assert not [ln for ln in md.splitlines() if ln.startswith("touch")]
