"""The network words every stage speaks: protocols, directions, peer types and the SG rule value.

The one protocol number↔name table lives here; the maths of which flows a rule allows stays
in :mod:`flowlens.recommend.rules`. Pure: no I/O, no third-party imports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

TCP, UDP, ICMP, ICMPV6, ALL = 6, 17, 1, 58, -1
#: Protocols whose ports limit a rule (flow logs carry ports only for these).
PORTED = frozenset({TCP, UDP})
ICMPS = frozenset({ICMP, ICMPV6})
#: Protocols whose FromPort/ToPort mean something (ports, or ICMP type/code).
PORTED_PROTOCOLS = PORTED | ICMPS

#: IANA numbers of the protocols EC2 names, and -1 (every protocol) as ``all``.
PROTOCOL_NAMES: Mapping[int, str] = {
    TCP: "tcp",
    UDP: "udp",
    ICMP: "icmp",
    ICMPV6: "icmpv6",
    ALL: "all",
}
PROTOCOL_NUMBERS: Mapping[str, int] = {name: number for number, name in PROTOCOL_NAMES.items()}


class Direction(StrEnum):
    INGRESS = "ingress"
    EGRESS = "egress"


class PeerType(StrEnum):
    CIDR4 = "cidr4"
    CIDR6 = "cidr6"
    SG = "sg"
    PREFIX_LIST = "prefix_list"

    @property
    def family(self) -> int | None:
        """4 or 6 for CIDR peers; None for references (their family is the flow's)."""
        return {PeerType.CIDR4: 4, PeerType.CIDR6: 6}.get(self)

    @property
    def is_cidr(self) -> bool:
        return self in (PeerType.CIDR4, PeerType.CIDR6)


#: The address range that stands for "anyone", per CIDR peer type.
WORLD: Mapping[str, str] = {PeerType.CIDR4: "0.0.0.0/0", PeerType.CIDR6: "::/0"}


class ProtocolError(ValueError):
    """A protocol value that is neither a known name nor -1/0-255;
    callers add where it came from."""


def protocol_number(value: str | int) -> int:
    """The IANA number of an ``IpProtocol``/``Protocol`` value; ``-1``/``all`` → -1.

    >>> [protocol_number(v) for v in ("tcp", "6", "-1", "ICMPv6")]
    [6, 6, -1, 58]
    """
    text = str(value).strip().lower()
    if text in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[text]
    try:
        number = int(text)
    except ValueError:
        raise ProtocolError(
            f"unknown IP protocol {value!r}; expected tcp, udp, icmp, icmpv6, -1 or 0-255"
        ) from None
    if number != ALL and not 0 <= number <= 255:
        raise ProtocolError(f"IP protocol {value!r} is outside 0-255")
    return number


def protocol_name(number: int) -> str:
    """``tcp``/``udp``/``icmp``/``icmpv6``/``all`` for the well-known numbers,
    else the number as text.

    >>> protocol_name(6), protocol_name(-1), protocol_name(47)
    ('tcp', 'all', '47')
    """
    return PROTOCOL_NAMES.get(number, str(number))


def ec2_protocol(number: int) -> str:
    """The ``IpProtocol`` string EC2 (and Terraform) take:
    tcp/udp/icmp/icmpv6, ``-1``, or the number.

    >>> ec2_protocol(6), ec2_protocol(-1), ec2_protocol(47)
    ('tcp', '-1', '47')
    """
    return "-1" if number == ALL else protocol_name(number)


def derived_rule_id(
    group_id: str,
    direction: str,
    protocol: int,
    from_port: int | None,
    to_port: int | None,
    peer: str,
) -> str:
    """``sgr-derived-`` + 17 hex digits of SHA-256 over the rule's identity.

    Hashed text: ``group_id|direction|protocol|from_port|to_port|peer`` with the IANA protocol
    number, ports as stored (empty when NULL) and the canonical peer (CIDR, sg- or pl- id).
    It depends on nothing else (not on list order, descriptions or file), so it is stable
    across runs.

    >>> derived_rule_id("sg-1", "ingress", 6, 22, 22, "10.0.0.0/8")
    'sgr-derived-b7898da2c4b59aaa7'
    """
    parts = [group_id, direction, str(protocol), _text(from_port), _text(to_port), peer]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f"sgr-derived-{digest[:17]}"


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


@dataclass(frozen=True)
class Rule:
    """One SG rule with a single peer (the unit of describe-security-group-rules).

    ``from_port``/``to_port`` are None (or -1) where ports do not apply or all are allowed.
    The description is carried along but is not part of a rule's identity.

    >>> Rule.from_dict(Rule("ingress", 6, 22, 22, "cidr4", "198.51.100.7/32").to_dict()).direction
    <Direction.INGRESS: 'ingress'>
    """

    direction: Direction
    ip_protocol: int
    from_port: int | None
    to_port: int | None
    peer_type: PeerType
    peer: str
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # Callers pass plain strings from SQL rows and JSON; one value check for all of them.
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "peer_type", PeerType(self.peer_type))

    @property
    def family(self) -> int | None:
        """4 or 6 for CIDR peers; None for references (their family is the flow's)."""
        return self.peer_type.family

    def port_range(self) -> tuple[int, int] | None:
        """The TCP/UDP port range this rule limits to, or None if every port is allowed."""
        if self.ip_protocol not in PORTED or self.from_port is None or self.from_port < 0:
            return None
        return (self.from_port, self.to_port if self.to_port is not None else self.from_port)

    def to_dict(self) -> dict[str, object]:
        ports = self.ip_protocol in PORTED_PROTOCOLS
        return {
            "direction": self.direction.value,
            "ip_protocol": self.ip_protocol,
            "from_port": self.from_port if ports else None,
            "to_port": self.to_port if ports else None,
            "peer_type": self.peer_type.value,
            "peer": self.peer,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object], *, direction: str | None = None) -> Rule:
        """The inverse of :meth:`to_dict`; ``direction`` is used when the dict has none."""
        proto = _opt_int(d["ip_protocol"])
        return cls(
            Direction(str(d.get("direction") or direction)),
            ALL if proto is None else proto,
            _opt_int(d.get("from_port")),
            _opt_int(d.get("to_port")),
            PeerType(str(d["peer_type"])),
            str(d["peer"]),
            str(d.get("description") or ""),
        )


@dataclass(frozen=True)
class SgRule:
    """A current rule with its identity (the ``sg_rules`` row) and tags."""

    rule_id: str
    group_id: str
    rule: Rule
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SgRule:
        """A rule from an ``sg_rules`` row as a query returns it (a dict per row).

        Reads ``rule_id``, ``group_id``, ``direction``, ``ip_protocol``, ``from_port``,
        ``to_port``, ``peer_type`` and ``peer``; ``description`` and ``tag_keys`` where the
        query selects them (the tags are then known by key only, their values empty).

        >>> r = SgRule.from_row({"rule_id": "sgr-1", "group_id": "sg-1", "direction": "ingress",
        ...     "ip_protocol": 6, "from_port": 22, "to_port": 22, "peer_type": "cidr4",
        ...     "peer": "10.0.0.0/8", "tag_keys": ["owner"]})
        >>> r.rule.port_range(), dict(r.tags)
        ((22, 22), {'owner': ''})
        """
        rule = Rule(
            Direction(row["direction"]),
            int(row["ip_protocol"]),
            _opt_int(row["from_port"]),
            _opt_int(row["to_port"]),
            PeerType(row["peer_type"]),
            str(row["peer"]),
            str(row.get("description") or ""),
        )
        tags = {str(k): "" for k in row.get("tag_keys") or ()}
        return cls(str(row["rule_id"]), str(row["group_id"]), rule, tags)
