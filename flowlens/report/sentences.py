"""Sentences the report states about a plan, worded so they claim no more
than the plan shows. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from flowlens.model.plan import Recommendation, Verification


def subset_sentence(recs: Sequence[Recommendation]) -> str:
    """How many proposals stay inside the rule they change, and which may widen
    (never claimed for all)."""
    widen = [r.rule_id for r in recs if r.may_widen]
    text = (
        f"{len(recs) - len(widen)} of {len(recs)} proposals stay inside the rule they change "
        "(removals and narrowings)"
    )
    if not widen:
        return text + "."
    return text + f"; {len(widen)} may widen access and are marked 'may widen': {', '.join(widen)}."


def replay_sentence(v: Verification | None) -> str:
    """The replay proof in one sentence, or that there is none to show."""
    if v is None:
        return "No replay figures recorded for these proposals (pass --plan FILE to show them)."
    return (
        f"Replayed against {v.flows_checked:,} accepted flows of the window: "
        f"{v.flows_cut:,} would be cut."
    )
