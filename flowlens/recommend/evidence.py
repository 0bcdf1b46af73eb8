"""Removals from configuration and history: shadowed rules, and the wait a periodic rule needs.

:func:`shadowed_removals` proposes removing a rule whose allowed set the *remaining* rules cover
on every ENI it applies to, one rule at a time: each check sees the plan so far (removed rules
gone, narrowed rules as narrowed), so coverage never rests on a rule that is itself removed or
narrowed. :func:`periodic_blocks` holds back removals of periodic rules until the window spans
two periods. Pure: no boto3, no duckdb.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from flowlens.analyze.history import History, periodic_block
from flowlens.analyze.shadow import Box, RuleSet, shadow_of
from flowlens.model.net import Rule, SgRule
from flowlens.model.plan import Kind
from flowlens.recommend.inputs import Inventory
from flowlens.recommend.proposals import Candidate, address_space


def rules_after(inv: Inventory, candidates: Sequence[Candidate]) -> list[SgRule]:
    """The rules as the plan leaves them: removals gone, narrowings as their proposed rules."""
    changed = {c.sg_rule.rule_id: c for c in candidates}
    out: list[SgRule] = []
    for r in inv.rules:
        c = changed.get(r.rule_id)
        if c is None:
            out.append(r)
        else:
            out.extend(SgRule(f"{r.rule_id}", r.group_id, p) for p in c.proposed)
    return out


def shadowed_removals(
    inv: Inventory, candidates: Sequence[Candidate], pool: Iterable[SgRule]
) -> list[Candidate]:
    """Removal candidates for the rules of ``pool`` shadowed by what the
    plan leaves, widest first."""
    known = frozenset(
        (
            *inv.group_tags,
            *inv.group_vpc,
            *inv.ctx.sg_members,
            *(r.group_id for r in inv.rules),
            *(g for gs in inv.eni_groups.values() for g in gs),
        )
    )
    plan = list(candidates)
    narrowed = {c.sg_rule.rule_id for c in candidates if c.proposed}
    added: list[Candidate] = []
    boxes: dict[Rule, tuple[Box, ...] | None] = {}  # by rule value: the same across the checks
    for r in sorted(pool, key=lambda x: (-address_space(x.rule), x.group_id, x.rule_id)):
        rs = RuleSet(rules_after(inv, plan), inv.eni_groups, inv.ctx, known)
        s = shadow_of(r, rs, boxes)
        if s is None:
            continue
        where = (
            f"on each of the {s.enis} ENIs it applies to"
            if s.enis
            else "within its SG (no ENI carries it)"
        )
        by = ", ".join(f"{x} (as narrowed)" if x in narrowed else x for x in s.shadowed_by)
        note = f"shadowed by configuration: {where}, everything it allows is also allowed by {by}"
        if s.dynamic:
            note += "; an SG reference takes part, so this holds for the snapshot's members"
        c = Candidate(r, Kind.REDUNDANT, (), structural=not s.dynamic, notes=(note,))
        plan.append(c)
        added.append(c)
    return added


def periodic_blocks(
    candidates: Sequence[Candidate], history: Mapping[str, History], window_days: float
) -> dict[str, str]:
    """Per removal candidate of a periodic rule whose window is under two periods, why it must wait.

    A structural redundancy is exempt: other rules allow everything it does, whenever it is used.
    """
    out: dict[str, str] = {}
    for c in candidates:
        if c.proposed or c.structural:
            continue
        why = periodic_block(history.get(c.sg_rule.rule_id), window_days)
        if why:
            out[c.sg_rule.rule_id] = why
    return out
