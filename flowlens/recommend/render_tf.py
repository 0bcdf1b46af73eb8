"""The plan as Terraform: new rules as ``aws_vpc_security_group_{ingress,egress}_rule`` resources.

Revoked rules cannot be written as resources to delete, because Terraform only deletes what
its state manages; each one gets a comment saying how to retire it (delete its resource if
it is managed, else import it with the commented ``import`` block, then delete that block).
Pure: builds text.
"""

from __future__ import annotations

import json
import re

from flowlens.model.net import ICMPS, PORTED, Rule, ec2_protocol
from flowlens.model.plan import Plan, Recommendation

_PEER_ATTR = {"cidr4": "cidr_ipv4", "cidr6": "cidr_ipv6", "sg": "referenced_security_group_id",
              "prefix_list": "prefix_list_id"}


def _name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _resource(rec: Recommendation, rule: Rule, index: int) -> list[str]:
    attrs: list[tuple[str, object]] = [("security_group_id", rec.group_id), ("description", rule.description),
                                       ("ip_protocol", ec2_protocol(rule.ip_protocol))]
    if rule.ip_protocol in PORTED or rule.ip_protocol in ICMPS:
        attrs += [("from_port", -1 if rule.from_port is None else rule.from_port),
                  ("to_port", -1 if rule.to_port is None else rule.to_port)]
    attrs.append((_PEER_ATTR[rule.peer_type], rule.peer))
    width = max(len(k) for k, _ in attrs)
    rtype = f"aws_vpc_security_group_{rule.direction}_rule"
    body = [f"  {k.ljust(width)} = {json.dumps(v)}" for k, v in attrs if v != ""]
    return [f'resource "{rtype}" "{_name(rec.rule_id)}_{index}" {{', *body, "}", ""]


def _retire(rec: Recommendation) -> list[str]:
    rtype = f"aws_vpc_security_group_{rec.direction}_rule"
    return [
        f"# revoke {rec.rule_id} ({rec.group_id}, {rec.action.value}/{rec.kind.value}, risk {rec.risk.value}):",
        "#   managed by Terraform -> delete its resource block (or inline rule) once the new rules exist;",
        "#   not managed -> adopt it, apply, then delete this block and apply again:",
        f'# import {{ to = {rtype}.retire_{_name(rec.rule_id)}  id = "{rec.rule_id}" }}',
        "",
    ]


def render_tf(plan: Plan) -> str:
    """Terraform text: resources for every proposed rule, comments for every rule to revoke."""
    v = plan.verification
    out = [
        "# flowlens tightening plan (Terraform, AWS provider >= 5.x).",
        f"# window {plan.to_dict()['window']['start']} .. {plan.to_dict()['window']['end']};"
        f" replay proof: {v.flows_checked} flows checked, {v.flows_cut} cut.",
        "# Apply the new rules first; revoke the old ones only after they exist.",
        "# Do not mix these resources with inline ingress/egress blocks of aws_security_group.",
        "",
    ]
    for rec in plan.recommendations:
        for i, rule in enumerate(rec.proposed, start=1):
            if rec.may_widen and i == 1:
                out.append(f"# {rec.rule_id}: replacement that may widen access (SG reference)")
            out += _resource(rec, rule, i)
    out += ["# ---- rules to revoke ----", ""]
    for rec in plan.recommendations:
        out += _retire(rec)
    return "\n".join(out)
