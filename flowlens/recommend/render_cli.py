"""The plan as a reviewable bash script of AWS CLI calls: authorize every new rule, then revoke.

Pure: builds text.
"""

from __future__ import annotations

import json
import shlex

from flowlens.model.plan import Plan, Recommendation
from flowlens.recommend.ec2_shapes import ip_permission


def _evidence_comment(rec: Recommendation) -> str:
    ev = rec.evidence
    return (f"# {rec.rule_id} ({rec.group_id}): {rec.action.value}/{rec.kind.value}, risk {rec.risk.value}: "
            f"{ev.flows} flows, {ev.connections} connections, {ev.peers} peers, {ev.ports} ports "
            f"in {ev.window_days:g} days; {rec.risk_reason}")


def _authorize(rec: Recommendation) -> list[str]:
    lines = [_evidence_comment(rec)]
    if rec.may_widen:
        lines.append("# NOTE: replacement that may widen access (see the plan)")
    perms = json.dumps([ip_permission(rule) for rule in rec.proposed], separators=(",", ":"))
    lines.append(f"aws ec2 authorize-security-group-{rec.direction} --group-id {shlex.quote(rec.group_id)} "
                 f"--ip-permissions {shlex.quote(perms)}")
    return lines


def _revoke(rec: Recommendation) -> list[str]:
    return [
        f"# {rec.rule_id}: {rec.current.peer if rec.current else '(current rule not in the plan)'} "
        f"{rec.direction}, {rec.action.value}",
        f"aws ec2 revoke-security-group-{rec.direction} --group-id {shlex.quote(rec.group_id)} "
        f"--security-group-rule-ids {shlex.quote(rec.rule_id)}",
    ]


def render_cli(plan: Plan) -> str:
    """A bash script: ``set -euo pipefail``, all authorizations first, then all revocations."""
    v = plan.verification
    head = [
        "#!/usr/bin/env bash",
        "# flowlens tightening plan; review before running. Uses the AWS CLI's usual",
        "# credentials, region and profile (AWS_PROFILE, AWS_REGION) from the environment.",
        f"# window: {plan.to_dict()['window']['start']} .. {plan.to_dict()['window']['end']} ({plan.window_days:g} days)",
        f"# replay proof: {v.flows_checked} accepted flows checked, {v.flows_cut} cut",
        "set -euo pipefail",
        "",
        "# 1. authorize the new rules (nothing is revoked until all of them exist)",
    ]
    body = [line for rec in plan.recommendations if rec.proposed for line in _authorize(rec)]
    tail = ["", "# 2. revoke the old rules, by rule id"]
    tail += [line for rec in plan.recommendations for line in _revoke(rec)]
    return "\n".join([*head, *body, *tail, ""])
