"""Who held which security group when: the time the replay proof judges each flow at.

The rules a plan changes are the latest snapshot's; but a flow of the window is judged with the
groups its ENI held *at the flow's time*, and an SG-reference peer with the addresses that
belonged to the referenced group's ENIs *then* (docs/recommend.md, "The replay proof").

From the inventory timeline every (ENI, group) row has a **possible** interval (``valid``: when
it may have held) and a **certain** one (when it is known to have held: from the first to the
last snapshot that showed it, stretched to the far past or future when no earlier or later
snapshot contradicts it, which is how a single snapshot describes the whole window). A
:class:`Piece` is a stretch of time over which both sets are constant; the replay checks a flow
in every piece its time overlaps, against every set of groups the ENI may then have had.

Flows on an ENI that no snapshot places in a group (unattributed) are judged in a piece of
their VPC: every group of that VPC possibly held them, none certainly.

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
#: The holder of unattributed flows whose VPC is unknown: every group of every VPC.
ANY_VPC = "*"


@dataclass(frozen=True)
class Held:
    """A group held over ``[valid_from, valid_to)`` possibly,
    ``[certain_from, certain_to)`` certainly."""

    group_id: str
    valid_from: datetime = FAR_PAST
    valid_to: datetime = FAR_FUTURE
    certain_from: datetime = FAR_PAST
    certain_to: datetime = FAR_FUTURE


@dataclass(frozen=True)
class MemberAt:
    """An address (or delegated prefix) of an ENI of ``group_id`` over
    ``[valid_from, valid_to)``."""

    group_id: str
    address: str
    valid_from: datetime = FAR_PAST
    valid_to: datetime = FAR_FUTURE
    #: known to belong (a snapshot showed it); False for an unplaced ENI's
    #: address (:func:`with_unplaced`)
    certain: bool = True


@dataclass(frozen=True)
class Piece:
    """A stretch ``[start, end)`` of one holder (an ENI, or ``vpc:<id>``)
    with constant group sets."""

    holder: str
    start: datetime
    end: datetime
    possible: frozenset[str]
    certain: frozenset[str] = frozenset()


@dataclass(frozen=True)
class History:
    """ENI → groups over time, VPC → its groups over time, group → member addresses over time."""

    holds: Mapping[str, tuple[Held, ...]] = field(default_factory=dict)
    vpc_groups: Mapping[str, tuple[Held, ...]] = field(default_factory=dict)
    members: Mapping[str, tuple[MemberAt, ...]] = field(default_factory=dict)


def static_history(
    eni_groups: Mapping[str, Sequence[str]],
    group_vpc: Mapping[str, str],
    sg_members: Mapping[str, Iterable[str]],
    sg_member_prefixes: Mapping[str, Iterable[str]],
) -> History:
    """The history of a world that never changes (one snapshot): everything holds at all times."""
    vpcs: dict[str, list[Held]] = {}
    for g, v in sorted(group_vpc.items()):
        vpcs.setdefault(v, []).append(Held(g, certain_from=FAR_FUTURE, certain_to=FAR_FUTURE))
    members: dict[str, list[MemberAt]] = {}
    for src in (sg_members, sg_member_prefixes):
        for g, addrs in src.items():
            members.setdefault(g, []).extend(MemberAt(g, a) for a in sorted(addrs))
    return History(
        {e: tuple(Held(g) for g in gs) for e, gs in eni_groups.items()},
        {v: tuple(h) for v, h in vpcs.items()},
        {g: tuple(m) for g, m in members.items()},
    )


def vpc_holder(vpc_id: str | None) -> str:
    """The holder key of the unattributed flows of a VPC (``vpc:*`` when the VPC is unknown)."""
    return f"vpc:{vpc_id or ANY_VPC}"


def pieces(holder: str, held: Sequence[Held]) -> list[Piece]:
    """The stretches of constant (possible, certain) group sets, adjacent equal ones merged.

    >>> t = [datetime(2026, 11, 28, h, tzinfo=UTC) for h in (6, 12)]
    >>> [(p.start.hour if p.start != FAR_PAST else None, sorted(p.possible), sorted(p.certain))
    ...  for p in pieces("eni-1", [Held("sg-a"), Held("sg-b", valid_to=t[1], certain_to=t[0])])]
    ... # doctest: +NORMALIZE_WHITESPACE
    [(None, ['sg-a', 'sg-b'], ['sg-a', 'sg-b']), (6, ['sg-a', 'sg-b'], ['sg-a']),
     (12, ['sg-a'], ['sg-a'])]
    """
    cuts = sorted(
        {t for h in held for t in (h.valid_from, h.valid_to, h.certain_from, h.certain_to)}
        | {FAR_PAST, FAR_FUTURE}
    )
    out: list[Piece] = []
    for start, end in pairwise(cuts):
        possible = frozenset(h.group_id for h in held if h.valid_from <= start < h.valid_to)
        if not possible:
            continue
        certain = (
            frozenset(h.group_id for h in held if h.certain_from <= start < h.certain_to) & possible
        )
        last = out[-1] if out else None
        if (
            last is not None
            and last.end == start
            and (last.possible, last.certain) == (possible, certain)
        ):
            out[-1] = Piece(holder, last.start, end, possible, certain)
        else:
            out.append(Piece(holder, start, end, possible, certain))
    return out


def all_pieces(history: History) -> list[Piece]:
    """Every piece of every ENI and of every VPC (unattributed flows),
    plus ``vpc:*`` (all groups)."""
    out = [p for eni in sorted(history.holds) for p in pieces(eni, history.holds[eni])]
    for vpc in sorted(history.vpc_groups):
        out += pieces(vpc_holder(vpc), history.vpc_groups[vpc])
    every = [h for v in sorted(history.vpc_groups) for h in history.vpc_groups[v]]
    return out + pieces(vpc_holder(None), every)


def overlap(
    first: datetime | None, last: datetime | None, *spans: tuple[datetime, datetime]
) -> bool:
    """Whether the closed flow time ``[first, last]`` meets every half-open span
    (None: unknown, any time).

    >>> a, b = datetime(2026, 11, 28, 6, tzinfo=UTC), datetime(2026, 11, 28, 12, tzinfo=UTC)
    >>> overlap(a, a, (a, b)), overlap(b, b, (a, b)), overlap(None, None, (a, b), (b, FAR_FUTURE))
    (True, False, False)
    """
    lo = max([first or FAR_PAST, *(s for s, _ in spans)])
    return lo <= (last or FAR_FUTURE) and lo < min(e for _, e in spans)


def certain_bounds(
    valid_from: datetime,
    valid_to: datetime,
    seen_from: datetime,
    seen_to: datetime,
    snapshot_times: frozenset[datetime],
) -> tuple[datetime, datetime]:
    """The certain interval of a timeline row, half-open.

    Where the possible interval ends at a snapshot that did not show the row, the row is certain
    only up to the last snapshot that did (``seen_to``; the instant itself is given up, which
    only ever makes the replay stricter); where it ends at the far future or past, or at a time
    AWS stated (``AttachTime``), nothing contradicts it and it is taken as held.
    """
    start = seen_from if valid_from in snapshot_times else valid_from
    end = seen_to if valid_to in snapshot_times else valid_to
    return (start, end) if start < end else (start, start)


#: eni_ips kinds an SG reference matches (public addresses never: AWS
#: resolves references privately).
MEMBER_KINDS = frozenset({"primary4", "secondary4", "ipv6", "prefix4", "prefix6"})


def history_from_tables(
    eni_groups: Sequence[Mapping[str, Any]],
    eni_ips: Sequence[Mapping[str, Any]],
    security_groups: Sequence[Mapping[str, Any]],
    snapshot_times: Iterable[datetime],
) -> History:
    """The history of the inventory timeline's ``eni_groups``, ``eni_ips`` and
    ``security_groups`` rows.

    A member address holds while both its (ENI, group) row and its (ENI, address) row possibly hold:
    an address that moved to another ENI later counts for the old group only before.
    """
    times = frozenset(snapshot_times)
    holds: dict[str, list[Held]] = {}
    for r in eni_groups:
        cf, ct = certain_bounds(r["valid_from"], r["valid_to"], r["seen_from"], r["seen_to"], times)
        holds.setdefault(r["eni_id"], []).append(
            Held(r["group_id"], r["valid_from"], r["valid_to"], cf, ct)
        )
    vpcs: dict[str, list[Held]] = {}
    for r in security_groups:
        if r.get("vpc_id"):
            vpcs.setdefault(r["vpc_id"], []).append(
                Held(r["group_id"], r["valid_from"], r["valid_to"], FAR_FUTURE, FAR_FUTURE)
            )
    ips: dict[str, list[Mapping[str, Any]]] = {}
    for r in eni_ips:
        if r.get("kind") in MEMBER_KINDS and r.get("address"):
            ips.setdefault(r["eni_id"], []).append(r)
    members: dict[str, set[MemberAt]] = {}
    for eni, held in holds.items():
        for h in held:
            for ip in ips.get(eni, ()):
                lo, hi = max(h.valid_from, ip["valid_from"]), min(h.valid_to, ip["valid_to"])
                if lo < hi:
                    members.setdefault(h.group_id, set()).add(
                        MemberAt(h.group_id, ip["address"], lo, hi)
                    )
    return History(
        {e: tuple(h) for e, h in holds.items()},
        {v: tuple(h) for v, h in vpcs.items()},
        {g: tuple(sorted(m, key=lambda x: (x.address, x.valid_from))) for g, m in members.items()},
    )


@dataclass(frozen=True)
class Unplaced:
    """An address an ENI that no snapshot places used as its own, over
    ``[first_seen, last_seen]``."""

    address: str
    vpc_id: str | None
    first_seen: datetime
    last_seen: datetime


def with_unplaced(history: History, unplaced: Iterable[Unplaced]) -> History:
    """``history`` with each unplaced ENI's address a possible member of every group of its VPC.

    The old bastion of an instance refresh keeps sending SSH to the app servers from an address no
    snapshot gives to any group; the app servers' rule "SSH from the bastion's SG" allowed it then.
    So while such an address was in use, an SG reference of its VPC may stand for it: enough for the
    replay to protect the flow, never enough to count it as still allowed (``certain=False``).
    """
    members = {g: list(m) for g, m in history.members.items()}
    for u in unplaced:
        # a VPC the inventory does not know has none of its groups; an unknown VPC may be any
        groups = (
            history.vpc_groups.get(u.vpc_id, ())
            if u.vpc_id
            else [h for hs in history.vpc_groups.values() for h in hs]
        )
        end = u.last_seen + timedelta(microseconds=1)  # the closed time of the records, half-open
        for h in groups:
            lo, hi = max(h.valid_from, u.first_seen), min(h.valid_to, end)
            if lo < hi:
                members.setdefault(h.group_id, []).append(
                    MemberAt(h.group_id, u.address, lo, hi, certain=False)
                )
    return replace(history, members={g: tuple(m) for g, m in members.items()})
