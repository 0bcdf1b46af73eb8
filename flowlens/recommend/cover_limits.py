"""The reviewer's limits on a narrowed CIDR: observed share per prefix and the widest prefix.

``--min-coverage C``: a prefix is proposed only when at least ``C`` of its addresses were
observed (a /32 always qualifies), so a few hosts never stand for a whole network. ``--max-prefix
N``: no prefix wider than /N (IPv4; IPv6 uses /4N, the scale of docs/recommend.md's permissiveness).
Among the covers of at most ``k`` prefixes that satisfy both, the least-space one; when none
does, the cover with the fewest prefixes that does, up to ``limit`` prefixes; else None (the
rule is kept). ``--max-rules N``: no SG grows past N rules through narrowings
(:func:`growth_over_cap`). Pure: no boto3, no duckdb.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from flowlens.model.net import SgRule
from flowlens.recommend.prefix_cover import Cover, covers_by_count, minimal_cover
from flowlens.recommend.rules import address, network

if TYPE_CHECKING:
    from flowlens.recommend.proposals import Candidate


def _fits(cover: Cover, observed: set[int], min_coverage: float, max_prefix: int | None) -> bool:
    for prefix in cover.prefixes:
        net = network(prefix)
        if max_prefix is not None and net.prefixlen < (
            max_prefix if net.version == 4 else 4 * max_prefix
        ):
            return False
        if min_coverage > 0:
            lo, hi = int(net.network_address), int(net.broadcast_address)
            seen = sum(1 for a in observed if lo <= a <= hi)
            if seen < min_coverage * net.num_addresses:
                return False
    return True


def limited_cover(
    peers: Iterable[str],
    original: str,
    k: int,
    *,
    min_coverage: float = 0.0,
    max_prefix: int | None = None,
    limit: int = 10,
) -> Cover | None:
    """The cover :mod:`flowlens.recommend.proposals` proposes for ``peers`` inside ``original``.

    >>> peers = ["10.0.1.5", "10.0.1.6", "10.0.9.1"]
    >>> limited_cover(peers, "10.0.0.0/16", 1).prefixes
    ('10.0.0.0/20',)
    >>> limited_cover(peers, "10.0.0.0/16", 1, min_coverage=0.75).prefixes
    ('10.0.1.5/32', '10.0.1.6/32', '10.0.9.1/32')
    >>> limited_cover(peers, "10.0.0.0/16", 2, max_prefix=24).prefixes
    ('10.0.1.4/30', '10.0.9.1/32')
    """
    addrs = sorted(set(peers))
    if min_coverage <= 0 and max_prefix is None:
        return minimal_cover(addrs, original, k)
    observed = {int(address(a)) for a in addrs}
    covers = covers_by_count(addrs, original, max(k, min(limit, len(addrs))))
    within = [
        c for j, c in covers.items() if j <= k and _fits(c, observed, min_coverage, max_prefix)
    ]
    if within:
        return min(within, key=lambda c: (c.space, len(c.prefixes)))
    beyond = [
        c
        for j, c in sorted(covers.items())
        if j > k and _fits(c, observed, min_coverage, max_prefix)
    ]
    return beyond[0] if beyond else None


def growth_over_cap(
    rules_by_group: Mapping[str, Sequence[SgRule]], candidates: Sequence[Candidate], cap: int
) -> list[tuple[Candidate, str]]:
    """Narrowings to drop so no SG grows past ``cap`` rules (``--max-rules``), largest first.

    An SG already over the cap is only kept from growing further.
    """
    dropped: list[tuple[Candidate, str]] = []
    live = list(candidates)
    for group, rules in sorted(rules_by_group.items()):
        while True:
            mine = [c for c in live if c.sg_rule.group_id == group]
            after = len(rules) + sum(len(c.proposed) - 1 for c in mine)
            growing = [c for c in mine if len(c.proposed) > 1]
            if after <= max(cap, len(rules)) or not growing:
                break
            worst = max(growing, key=lambda c: (len(c.proposed), c.sg_rule.rule_id))
            dropped.append(
                (
                    worst,
                    f"--max-rules: {group} would hold {after} rules (limit {cap}); kept as it is",
                )
            )
            live.remove(worst)
    return dropped
