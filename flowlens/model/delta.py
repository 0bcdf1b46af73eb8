"""The connectivity delta of a plan: per SG and direction, the paths that change, before → after.

A *path* is what one current rule lets through (peer, protocol, port range) on its SG and
direction; a recommendation removes it, narrows it (the new rules stay inside it) or replaces it
by references that may widen (an SG whose members change, a prefix list beyond the CIDR). Each
path carries the flows and peers the window observed on it, so the one-line summary says what
the plan takes away from traffic that exists and what it takes away from traffic that does not:

    removes 3 paths that saw no traffic; narrows 2 paths that saw 5,547 flows to the 41 peers that
    sent them

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flowlens.model.net import Direction, Rule

if TYPE_CHECKING:
    from flowlens.model.plan import Recommendation


class Change(StrEnum):
    REMOVED = "removed"
    NARROWED = "narrowed"
    REPLACED = "replaced"  # by a reference that may widen access


@dataclass(frozen=True)
class PathChange:
    group_id: str
    direction: Direction
    rule_id: str
    change: Change
    before: Rule | None
    after: tuple[Rule, ...]
    flows: int
    peers: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "direction": self.direction.value,
            "rule_id": self.rule_id,
            "change": self.change.value,
            "before": None if self.before is None else self.before.to_dict(),
            "after": [r.to_dict() for r in self.after],
            "flows": self.flows,
            "peers": self.peers,
        }


def _paths(n: int) -> str:
    return f"{n:,} path{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Delta:
    paths: tuple[PathChange, ...]

    def by_group(self) -> dict[tuple[str, Direction], list[PathChange]]:
        out: dict[tuple[str, Direction], list[PathChange]] = {}
        for p in self.paths:
            out.setdefault((p.group_id, p.direction), []).append(p)
        return out

    def summary(self) -> str:
        """The plan's effect on connectivity in one line (peers are counted per path)."""
        unused = [p for p in self.paths if p.change is Change.REMOVED and not p.flows]
        redundant = [p for p in self.paths if p.change is Change.REMOVED and p.flows]
        narrowed = [p for p in self.paths if p.change is Change.NARROWED]
        replaced = [p for p in self.paths if p.change is Change.REPLACED]
        parts = []
        if unused:
            parts.append(f"removes {_paths(len(unused))} that saw no traffic")
        if redundant:
            parts.append(
                f"removes {_paths(len(redundant))} whose {sum(p.flows for p in redundant):,} flows "
                "other rules still allow"
            )
        if narrowed:
            parts.append(
                f"narrows {_paths(len(narrowed))} that saw {sum(p.flows for p in narrowed):,} "
                f"flows to the {sum(p.peers for p in narrowed):,} peers that sent them"
            )
        if replaced:
            parts.append(
                f"replaces {_paths(len(replaced))} that saw {sum(p.flows for p in replaced):,} "
                "flows by references that may widen access"
            )
        return "; ".join(parts) if parts else "changes no path"

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "paths": [p.to_dict() for p in self.paths]}


def connectivity_delta(recs: Sequence[Recommendation]) -> Delta:
    """The paths ``recs`` change, ordered by SG, direction and rule."""
    out = []
    for r in recs:
        if not r.proposed:
            change = Change.REMOVED
        elif r.may_widen:
            change = Change.REPLACED
        else:
            change = Change.NARROWED
        out.append(
            PathChange(
                r.group_id,
                r.direction,
                r.rule_id,
                change,
                r.current,
                r.proposed,
                r.evidence.flows,
                r.evidence.peers,
            )
        )
    return Delta(tuple(sorted(out, key=lambda p: (p.group_id, p.direction.value, p.rule_id))))
