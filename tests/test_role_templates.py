"""The member-account role templates in deploy/ grant exactly the actions the inventory declares
(flowlens.inventory.permissions, which a moto test checks against every call the inventory
makes), trust only the given principal, and require the external id when one is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import yaml

from flowlens.inventory.permissions import iam_policy

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
DECLARED = set(iam_policy()["Statement"][0]["Action"])  # type: ignore[index]


def test_the_cloudformation_role_allows_exactly_the_declared_actions() -> None:
    doc = yaml.safe_load((DEPLOY / "flowlens-readonly.cfn.yaml").read_text(encoding="utf-8"))
    role = doc["Resources"]["FlowlensReadOnlyRole"]["Properties"]
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Resource"]) == ("Allow", "*")
    assert set(statement["Action"]) == DECLARED
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "TrustedPrincipalArn"}}
    assert trust["Action"] == "sts:AssumeRole"
    cond = trust["Condition"]["Fn::If"]
    assert cond[0] == "HasExternalId"
    assert cond[1] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert doc["Parameters"]["RoleName"]["Default"] == "flowlens-readonly"


def _blocks(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block in doc.get(kind, []):
        for typ, named in block.items():
            for name, body in named.items():
                out[f"{typ}.{name}".strip('"').replace('"', "")] = body
    return out


def test_the_terraform_module_allows_exactly_the_declared_actions() -> None:
    path = DEPLOY / "terraform" / "flowlens-readonly" / "main.tf"
    with path.open(encoding="utf-8") as fh:
        doc = hcl2.load(fh)
    data = _blocks(doc, "data")
    [statement] = data["aws_iam_policy_document.inventory"]["statement"]
    actions = {a.strip('"') for a in statement["actions"]}
    assert actions == DECLARED
    assert [r.strip('"') for r in statement["resources"]] == ["*"]
    [trust] = data["aws_iam_policy_document.trust"]["statement"]
    assert [a.strip('"') for a in trust["actions"]] == ["sts:AssumeRole"]
    resources = _blocks(doc, "resource")
    assert "aws_iam_role.flowlens_readonly" in resources
    assert "aws_iam_role_policy.inventory" in resources
