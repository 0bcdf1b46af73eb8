"""The plan as Terraform: new rules as ``aws_vpc_security_group_{ingress,egress}_rule`` resources.

Terraform only deletes what its state manages, so each rule to revoke is adopted first: an
``import`` block and a resource stub matching the rule (``ignore_changes = all``: adopting it
changes nothing in AWS). Step 1 applies the file as written (new rules created, old ones
adopted); step 2 deletes the ``retire_*`` blocks and applies again, which deletes exactly those
rules. One provider configuration per account and region pins where it runs
(``allowed_account_ids``). Every AWS-sourced string goes through :func:`hcl_str` (no
interpolation) and comments carry only :func:`comment_text`. Pure: builds text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from flowlens.model.net import ICMPS, PORTED, Rule, ec2_protocol
from flowlens.model.plan import Plan, Recommendation
from flowlens.recommend.render_md import basis_sentence, delta_lines
from flowlens.recommend.text import comment_text, days_text, hcl_str

_PEER_ATTR = {
    "cidr4": "cidr_ipv4",
    "cidr6": "cidr_ipv6",
    "sg": "referenced_security_group_id",
    "prefix_list": "prefix_list_id",
}

HEADER = """\
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
"""


def _name(text: str) -> str:
    """An HCL identifier for an id; ids that needed changing get a hash so two never collide."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", text)
    if safe.replace("_", "-") != text and safe != text:
        safe += "_" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return safe if safe[:1].isalpha() or safe[:1] == "_" else "r_" + safe


def _alias(account: str, region: str) -> str:
    """The provider alias of an account and region ("" = the default provider)."""
    if not account and not region:
        return ""
    raw = "_".join(p for p in (f"a{account}" if account else "", region) if p)
    if re.fullmatch(r"[A-Za-z0-9_-]+", raw):  # account ids and region names as AWS spells them
        return raw.replace("-", "_").lower()
    return _name(raw).lower()


def _attrs(group_id: str, rule: Rule, alias: str) -> list[str]:
    pairs: list[tuple[str, str]] = [("provider", f"aws.{alias}")] if alias else []
    pairs += [("security_group_id", hcl_str(group_id))]
    if rule.description:
        pairs.append(("description", hcl_str(rule.description)))
    pairs.append(("ip_protocol", hcl_str(ec2_protocol(rule.ip_protocol))))
    if rule.ip_protocol in PORTED or rule.ip_protocol in ICMPS:
        pairs += [
            ("from_port", str(-1 if rule.from_port is None else rule.from_port)),
            ("to_port", str(-1 if rule.to_port is None else rule.to_port)),
        ]
    pairs.append((_PEER_ATTR[rule.peer_type], hcl_str(rule.peer)))
    width = max(len(k) for k, _ in pairs)
    return [f"  {k.ljust(width)} = {v}" for k, v in pairs]


def _comment(rec: Recommendation) -> list[str]:
    lines = [
        f"# {comment_text(rec.rule_id)} in {comment_text(rec.group_id)}: "
        f"{rec.action.value}/{rec.kind.value}, risk {rec.risk.value}: "
        f"{comment_text(rec.risk_reason)}"
    ]
    if rec.may_widen:
        lines.append(
            "# MAY WIDEN: not a subset of the current rule (an SG reference or "
            "prefix list); see the plan"
        )
    return lines


def _new_rules(rec: Recommendation) -> list[str]:
    out = _comment(rec)
    for i, rule in enumerate(rec.proposed, start=1):
        rtype = f"aws_vpc_security_group_{rule.direction}_rule"
        out += [
            f'resource "{rtype}" "{_name(rec.rule_id)}_{i}" {{',
            *_attrs(rec.group_id, rule, _alias(rec.account_id, rec.region)),
            "}",
            "",
        ]
    return out


def _retire(rec: Recommendation) -> list[str]:
    if rec.current is None:  # a minimal-shape plan: no rule to write a stub for
        return [
            f"# revoke {comment_text(rec.rule_id)}: the plan does not record the "
            "current rule; revoke it by hand",
            "",
        ]
    rtype = f"aws_vpc_security_group_{rec.direction}_rule"
    address = f"{rtype}.retire_{_name(rec.rule_id)}"
    alias = _alias(rec.account_id, rec.region)
    provider = [f"  provider = aws.{alias}"] if alias else []
    return [
        f"# revoke {comment_text(rec.rule_id)} ({rec.action.value}): "
        "adopted here, deleted in step 2",
        "import {",
        f"  to       = {address}",
        f"  id       = {hcl_str(rec.rule_id)}",
        *provider,
        "}",
        "",
        f'resource "{rtype}" "retire_{_name(rec.rule_id)}" {{',
        *_attrs(rec.group_id, rec.current, alias),
        "",
        "  lifecycle {",
        "    ignore_changes = all # only adopted to be deleted: never updated",
        "  }",
        "}",
        "",
    ]


def _providers(recs: Iterable[Recommendation]) -> list[str]:
    out = []
    for account, region in sorted({(r.account_id, r.region) for r in recs}):
        alias = _alias(account, region)
        body = [f"  alias               = {hcl_str(alias)}"] if alias else []
        if region:
            body.append(f"  region              = {hcl_str(region)}")
        if account:
            body.append(f"  allowed_account_ids = [{hcl_str(account)}]")
        out += ['provider "aws" {', *body, "}", ""]
    return out


def render_tf(plan: Plan) -> str:
    """Terraform text: providers pinned to the plan's accounts and regions, new
    rules, adopted old rules."""
    v = plan.verification
    w = plan.window_dict()
    out = [
        "# flowlens tightening plan (Terraform >= 1.5, AWS provider >= 5.0).",
        f"# window {w['start']} .. {w['end']} ({days_text(plan.window_days)} analysed).",
        f"# replay proof: {comment_text(v.claim())}.",
        f"# {comment_text(basis_sentence(plan))}",
        *([f"# {comment_text(plan.gap_sentence())}"] if plan.gap_sentence() else []),
        f"# connectivity: {comment_text(plan.delta().summary())}",
        *(f"#   {comment_text(line)}" for line in delta_lines(plan)),
        "# Step 1: terraform apply creates the new rules and adopts the rules "
        "to revoke (import blocks",
        "#   with stubs matching them; adopting changes nothing in AWS).",
        "# Step 2: once the new rules exist, delete every retire_* import and "
        "resource block below and",
        "#   apply again: Terraform deletes exactly those rules.",
        "# A rule to revoke that your own configuration already manages: delete "
        "its import and stub here",
        "# and delete your own resource in step 2 instead (one rule must not have two addresses).",
        "# Do not mix these resources with inline ingress/egress blocks of aws_security_group.",
        "",
        HEADER,
        *_providers(plan.recommendations),
        "# ---- new rules ----",
        "",
    ]
    for rec in plan.recommendations:
        if rec.proposed:
            out += _new_rules(rec)
    out += ["# ---- rules to revoke (step 2: delete these blocks) ----", ""]
    for rec in plan.recommendations:
        out += _retire(rec)
    return "\n".join(out)
