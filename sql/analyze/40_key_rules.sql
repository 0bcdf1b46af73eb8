-- name: 40_key_rules
-- returns: one row per match key × SG rule of that ENI's groups that allows it (matched_via cidr|prefix_list|sg)
-- A rule allows a key when the direction is the same, the protocol matches (-1 = all; protocols
-- other than TCP/UDP ignore ports; ICMP/ICMPv6 match on protocol only, because flow logs carry no
-- type/code), the port is in range, and the peer matches: an IPv4/IPv6 CIDR, an entry of the
-- prefix list's newest version, or a private address of an ENI in the referenced SG.
WITH rules AS (
    SELECT g.eni_id, r.rule_id, r.group_id, r.direction, r.ip_protocol, r.from_port, r.to_port,
           r.peer_type, r.peer, r.peer_family, r.peer_lo, r.peer_hi
    FROM eni_groups g
    JOIN sg_rules r ON r.group_id = g.group_id
), cand AS (
    SELECT k.*, r.rule_id, r.group_id, r.peer_type, r.peer, r.peer_family, r.peer_lo, r.peer_hi
    FROM match_keys k
    JOIN rules r ON r.eni_id = k.eni_id AND r.direction = k.rule_direction
    WHERE r.ip_protocol = -1
       OR (r.ip_protocol = k.protocol
           AND (k.protocol NOT IN (6, 17)
                OR ((r.from_port IS NULL OR r.from_port < 0 OR k.port >= r.from_port)
                    AND (r.to_port IS NULL OR r.to_port < 0 OR k.port <= r.to_port))))
), pl_current AS (
    SELECT e.prefix_list_id, e.family, e.lo, e.hi
    FROM prefix_list_entries e
    JOIN (SELECT prefix_list_id, MAX(version) AS version FROM prefix_list_entries GROUP BY prefix_list_id) v
        ON v.prefix_list_id = e.prefix_list_id AND (v.version = e.version OR v.version IS NULL)
)
SELECT eni_id, rule_direction, protocol, family, peer_key, port, rule_id, group_id, 'cidr' AS matched_via
FROM cand
WHERE peer_type IN ('cidr4', 'cidr6') AND peer_family = family AND peer_key BETWEEN peer_lo AND peer_hi
UNION
SELECT c.eni_id, c.rule_direction, c.protocol, c.family, c.peer_key, c.port, c.rule_id, c.group_id, 'prefix_list'
FROM cand c
JOIN pl_current e ON e.prefix_list_id = c.peer AND e.family = c.family AND c.peer_key BETWEEN e.lo AND e.hi
WHERE c.peer_type = 'prefix_list'
UNION
SELECT c.eni_id, c.rule_direction, c.protocol, c.family, c.peer_key, c.port, c.rule_id, c.group_id, 'sg'
FROM cand c
JOIN addr_groups ag ON ag.key = c.peer_key AND ag.group_id = c.peer
WHERE c.peer_type = 'sg'
