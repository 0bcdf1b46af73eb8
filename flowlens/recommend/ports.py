"""Observed ports → at most B port ranges that cover them with the fewest unobserved ports.

With the ports sorted, a set of B ranges is a choice of which gaps between neighbours to
close; closing the smallest n−B gaps is optimal (each closed gap adds exactly its width).

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

from collections.abc import Iterable


def port_ranges(ports: Iterable[int], budget: int) -> tuple[tuple[int, int], ...]:
    """Inclusive ranges, at most ``budget`` of them, covering every port in ``ports``.

    >>> port_ranges([443], 3)
    ((443, 443),)
    >>> port_ranges([80, 443, 8080, 8081, 8082], 3)
    ((80, 80), (443, 443), (8080, 8082))
    >>> port_ranges([80, 443, 8080], 2)
    ((80, 443), (8080, 8080))
    """
    if budget < 1:
        raise ValueError("a port budget needs at least one range")
    sorted_ports = sorted(set(ports))
    if not sorted_ports:
        return ()
    gaps = sorted(
        range(1, len(sorted_ports)), key=lambda i: (sorted_ports[i] - sorted_ports[i - 1], i)
    )
    keep_open = set(gaps[max(0, len(sorted_ports) - budget) :])
    ranges: list[tuple[int, int]] = []
    start = sorted_ports[0]
    for i in range(1, len(sorted_ports)):
        if i in keep_open and sorted_ports[i] - sorted_ports[i - 1] > 1:
            ranges.append((start, sorted_ports[i - 1]))
            start = sorted_ports[i]
    ranges.append((start, sorted_ports[-1]))
    return tuple(ranges)


def covered_count(ranges: Iterable[tuple[int, int]]) -> int:
    """How many ports the ranges allow in total."""
    return sum(hi - lo + 1 for lo, hi in ranges)
