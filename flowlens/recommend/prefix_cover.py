"""Exact minimal prefix cover: at most K prefixes covering every observed address, least space.

The addresses form a binary trie inside the original CIDR. Along a chain with a single child,
the lower node always covers the same addresses with less space, so only the branching
points (the longest common prefix of a subset) and the leaves matter. At such a node the
best cover with ``k`` prefixes is either the node's own prefix (one prefix), or the best
split of ``k`` between its two subtrees. That dynamic programme is exact and costs
O(n·K²) for n addresses. Ties on space are broken by fewer prefixes, then by address order.

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flowlens.recommend.rules import address

_Best = tuple[int, int, tuple[tuple[int, int], ...]]  # (space, count, ((network, prefixlen), ...))


@dataclass(frozen=True)
class Cover:
    """The chosen prefixes (canonical CIDR text, address order) and their total address count."""

    prefixes: tuple[str, ...]
    space: int


def _common_prefix_len(lo: int, hi: int, width: int) -> int:
    """Length of the common prefix of two addresses (lo <= hi) of ``width`` bits."""
    return width - (lo ^ hi).bit_length()


def _combine(left: list[_Best | None], right: list[_Best | None], k: int) -> list[_Best | None]:
    out: list[_Best | None] = [None] * (k + 1)
    for i, a in enumerate(left):
        if a is None:
            continue
        for j, b in enumerate(right[: k + 1 - i]):
            if b is None:
                continue
            cand = (a[0] + b[0], a[1] + b[1], a[2] + b[2])
            cur = out[i + j]
            if cur is None or cand[:2] < cur[:2]:
                out[i + j] = cand
    return out


def _solve(addrs: Sequence[int], width: int, k: int) -> list[_Best | None]:
    """best[j] = the least-space cover of the sorted, distinct ``addrs`` with exactly j prefixes."""
    plen = _common_prefix_len(addrs[0], addrs[-1], width)
    size = 1 << (width - plen)
    net = addrs[0] & ~(size - 1)
    best: list[_Best | None] = [None] * (k + 1)
    if k >= 1:
        best[1] = (size, 1, ((net, plen),))
    if len(addrs) > 1 and k >= 2:
        split_bit = 1 << (width - plen - 1)
        cut = next(i for i, a in enumerate(addrs) if a & split_bit)
        pair = _combine(_solve(addrs[:cut], width, k - 1), _solve(addrs[cut:], width, k - 1), k)
        for j, cand in enumerate(pair):
            cur = best[j]
            if cand is not None and (cur is None or cand[:2] < cur[:2]):
                best[j] = cand
    return best


def minimal_cover(addresses: Iterable[str], original: str, k: int) -> Cover:
    """The smallest-space set of at most ``k`` sub-prefixes of ``original`` covering ``addresses``.

    >>> minimal_cover(["198.51.100.7", "203.0.113.9"], "0.0.0.0/0", 2).prefixes
    ('198.51.100.7/32', '203.0.113.9/32')
    >>> minimal_cover(["10.0.1.5", "10.0.1.6", "10.0.9.1"], "10.0.0.0/16", 1).prefixes
    ('10.0.0.0/20',)
    >>> minimal_cover(["2001:db8::1", "2001:db8::3"], "::/0", 1).prefixes
    ('2001:db8::/126',)
    """
    if k < 1:
        raise ValueError("a cover needs at least one prefix (k >= 1)")
    outer = ipaddress.ip_network(original, strict=False)
    parsed = {address(a) for a in addresses}
    if any(ip.version != outer.version for ip in parsed):
        raise ValueError(f"addresses of another family than {outer} cannot be covered by it")
    ips = sorted(int(ip) for ip in parsed)
    if not ips:
        raise ValueError("no addresses to cover")
    lo, hi = int(outer.network_address), int(outer.broadcast_address)
    outside = [ip for ip in ips if not lo <= ip <= hi]
    if outside:
        raise ValueError(f"{len(outside)} address(es) lie outside {outer}, e.g. {outside[0]:#x}")
    width = outer.max_prefixlen
    candidates = [b for b in _solve(ips, width, k) if b is not None]
    space, _count, nets = min(candidates, key=lambda b: b[:2])
    cls = ipaddress.IPv4Network if outer.version == 4 else ipaddress.IPv6Network
    return Cover(tuple(str(cls((n, p))) for n, p in sorted(nets)), space)


def covers_by_count(addresses: Iterable[str], original: str, k: int) -> dict[int, Cover]:
    """For each j = 1..k that can be reached, the least-space cover with exactly j prefixes.

    The curve behind a trade-off between rules added and space allowed.

    >>> covers = covers_by_count(["10.0.1.5", "10.0.9.1"], "10.0.0.0/16", 3)
    >>> {j: c.prefixes for j, c in covers.items()}
    {1: ('10.0.0.0/20',), 2: ('10.0.1.5/32', '10.0.9.1/32')}
    """
    outer = ipaddress.ip_network(original, strict=False)
    ips = sorted({int(address(a)) for a in addresses})
    if not ips:
        raise ValueError("no addresses to cover")
    cls = ipaddress.IPv4Network if outer.version == 4 else ipaddress.IPv6Network
    out: dict[int, Cover] = {}
    for j, best in enumerate(_solve(ips, outer.max_prefixlen, k)):
        if best is not None:
            out[j] = Cover(tuple(str(cls((n, p))) for n, p in sorted(best[2])), best[0])
    return out
