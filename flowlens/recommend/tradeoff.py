"""Rules added against permissiveness left: the Pareto points behind each narrowing and the plan.

For a rule narrowed to CIDR prefixes, point ``j`` covers every observed peer address with the
least-space ``j`` prefixes inside the current CIDR
(:func:`flowlens.recommend.prefix_cover.covers_by_count`), each with the proposal's protocols and
ports. Every point therefore allows every observed flow and never more than the current rule.
``keep`` (the rule as it is) is a point too. The plan's points combine one point per rule, the least
total permissiveness for each total rule count. Pure: no boto3, no duckdb.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowlens.model.net import Rule, SgRule
from flowlens.model.plan import Action, Recommendation
from flowlens.recommend.observations import Observations
from flowlens.recommend.permissiveness import score, set_score
from flowlens.recommend.prefix_cover import covers_by_count
from flowlens.recommend.rules import PeerContext


@dataclass(frozen=True)
class Point:
    rules: tuple[Rule, ...]
    permissiveness: float
    chosen: bool = False
    label: str = ""

    @property
    def count(self) -> int:
        return len(self.rules)


@dataclass(frozen=True)
class Curve:
    rule_id: str
    group_id: str
    before: float
    points: tuple[Point, ...]  # Pareto points, fewest rules first


def pareto(points: Sequence[Point]) -> tuple[Point, ...]:
    """Points no other beats on both rule count and permissiveness (a chosen point always stays)."""
    out: list[Point] = []
    for p in sorted(points, key=lambda p: (p.count, p.permissiveness, not p.chosen)):
        if p.chosen or not out or p.permissiveness < min(q.permissiveness for q in out):
            out.append(p)
    return tuple(out)


def rule_points(
    current: Rule, proposed: Sequence[Rule], addresses: Sequence[str], k_max: int, ctx: PeerContext
) -> tuple[Point, ...]:
    """The points of one CIDR rule narrowed to ``proposed``;
    ``addresses`` are its observed peers."""
    services = sorted(
        {(p.ip_protocol, p.from_port, p.to_port) for p in proposed},
        key=lambda t: (t[0], t[1] or 0, t[2] or 0),
    )
    own = (
        [a for a in addresses if ":" in a]
        if current.family == 6
        else [a for a in addresses if ":" not in a]
    )
    points = [Point((current,), score(current, ctx), label="keep")]
    chosen_key = {(p.ip_protocol, p.from_port, p.to_port, p.peer) for p in proposed}
    if own:
        for j, cover in covers_by_count(own, current.peer, k_max).items():
            rules = tuple(
                Rule(current.direction, proto, lo, hi, current.peer_type, prefix)
                for prefix in cover.prefixes
                for proto, lo, hi in services
            )
            key = {(r.ip_protocol, r.from_port, r.to_port, r.peer) for r in rules}
            points.append(Point(rules, set_score(rules, ctx), key == chosen_key, f"{j} prefixes"))
    if not any(p.chosen for p in points):
        points.append(
            Point(
                tuple(proposed),
                set_score(proposed, ctx),
                True,
                "proposed: " + ", ".join(sorted({p.peer for p in proposed})),
            )
        )
    return pareto(points)


def curves(
    recs: Sequence[Recommendation],
    rules: Sequence[SgRule],
    obs: Observations,
    k_max: int,
    ctx: PeerContext,
) -> list[Curve]:
    """A curve per narrowing (or replacement) of a CIDR rule; removals have no choice to offer.

    The proposal itself is the chosen point; the others are CIDR covers of the observed peers
    with the proposal's protocols and ports (a prefix list or SG reference the proposal picked
    appears as the chosen point only)."""
    by_id = {r.rule_id: r for r in rules}
    out = []
    for rec in recs:
        r = by_id.get(rec.rule_id)
        if (
            r is None
            or rec.action not in (Action.NARROW, Action.REPLACE)
            or not r.rule.peer_type.is_cidr
            or not rec.proposed
        ):
            continue
        m = obs.matched(r)
        if m.truncated or not m.flows:
            continue
        addrs = sorted({ob.flow.peer_addr for ob in m.flows})
        out.append(
            Curve(
                r.rule_id,
                r.group_id,
                score(r.rule, ctx),
                rule_points(r.rule, rec.proposed, addrs, k_max, ctx),
            )
        )
    return out


@dataclass(frozen=True)
class PlanPoint:
    rules: int
    permissiveness: float
    chosen: bool


def plan_points(cs: Sequence[Curve]) -> tuple[PlanPoint, ...]:
    """The plan's Pareto points over the narrowed rules: for each total rule count the least total
    permissiveness, one point per rule; the plan's own choice is marked."""
    best: dict[int, float] = {0: 0.0}
    for c in cs:
        nxt: dict[int, float] = {}
        for n, s in best.items():
            for p in c.points:
                key = n + p.count
                if key not in nxt or s + p.permissiveness < nxt[key]:
                    nxt[key] = s + p.permissiveness
        best = nxt
    chosen_n = sum(next(p.count for p in c.points if p.chosen) for c in cs)
    chosen_s = round(sum(next(p.permissiveness for p in c.points if p.chosen) for c in cs), 1)
    pts = [PlanPoint(n, round(s, 1), False) for n, s in sorted(best.items())]
    frontier: list[PlanPoint] = []
    for q in pts:
        if not frontier or q.permissiveness < frontier[-1].permissiveness:
            frontier.append(q)
    frontier = [q for q in frontier if (q.rules, q.permissiveness) != (chosen_n, chosen_s)]
    return tuple(
        sorted(
            [*frontier, PlanPoint(chosen_n, chosen_s, True)],
            key=lambda q: (q.rules, q.permissiveness),
        )
    )


def render(cs: Sequence[Curve], before_total: float, after_total: float) -> str:
    """The trade-off as text: per rule, then the plan; ``*`` marks the chosen point."""
    lines = [
        "permissiveness (1 = one address and port, 100 = all traffic anywhere; "
        f"docs/recommend.md): plan total {before_total:g} → {after_total:g}",
        "",
    ]
    for c in cs:
        lines.append(f"{c.rule_id} ({c.group_id}), now {c.before:g}:")
        for p in c.points:
            peers = ", ".join(sorted({r.peer for r in p.rules}))
            what = p.label if p.label.startswith("proposed") else f"{p.label}: {peers}"
            lines.append(
                f"  {'*' if p.chosen else ' '} {p.count:>3} rules  {p.permissiveness:>5g}  {what}"
            )
    if cs:
        lines += ["", "plan (the rules above together): rules vs total permissiveness"]
        lines += [
            f"  {'*' if q.chosen else ' '} {q.rules:>4} rules  {q.permissiveness:>7g}"
            for q in plan_points(cs)
        ]
    else:
        lines.append("no narrowing of a CIDR rule in this plan: nothing to trade off")
    return "\n".join(lines) + "\n"
