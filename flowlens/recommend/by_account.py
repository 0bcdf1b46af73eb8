"""A plan per AWS account: an AWS CLI script or a Terraform file never mixes accounts. Pure.

Each recommendation carries its security group's account (``account_id``, from the inventory;
"" when the inventory did not say). :func:`split` gives one plan per account holding that
account's recommendations, and the dropped proposals and kept rules of its groups; the replay
verification stays the whole plan's (it proved the organisation's plan, of which each account's
is a part: applying fewer tightenings cuts no flow the whole plan did not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flowlens.model.plan import Plan

#: The folder name of recommendations whose account the inventory did not state.
UNKNOWN_ACCOUNT = "unknown-account"


def plan_accounts(plan: Plan) -> list[str]:
    """The accounts a plan's recommendations are for ("" when one is not known), sorted."""
    return sorted({r.account_id for r in plan.recommendations})


def doc_accounts(doc: Mapping[str, Any]) -> list[str]:
    """The accounts of a plan JSON document (``scope.accounts``, else its recommendations)."""
    recs = doc.get("recommendations") or []
    found = {str(r.get("account_id") or "") for r in recs if isinstance(r, Mapping)}
    return sorted(found)


def for_account(plan: Plan, account: str) -> Plan:
    """The part of ``plan`` for ``account`` ("" for the recommendations of no known account)."""
    recs = tuple(r for r in plan.recommendations if r.account_id == account)
    groups = {r.group_id for r in recs}
    return replace(
        plan,
        recommendations=recs,
        dropped=tuple(d for d in plan.dropped if d.group_id in groups),
        kept=tuple(k for k in plan.kept if k.group_id in groups),
    )


def split(plan: Plan) -> dict[str, Plan]:
    """One plan per account of ``plan``, keyed by account id (:data:`UNKNOWN_ACCOUNT` for "")."""
    return {a or UNKNOWN_ACCOUNT: for_account(plan, a) for a in plan_accounts(plan)}
