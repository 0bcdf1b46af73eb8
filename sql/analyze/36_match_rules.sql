-- name: 36_match_rules
-- returns: the rules of each ENI's security groups as the rule-match join reads them (eni_id,
--     rule_id, group_id, rule_direction, ip_protocol, port_lo, port_hi)
-- Ports bound only TCP and UDP rules (other protocols match on protocol only: ICMP type/code is
-- not in flow logs), and a missing or negative from/to port leaves that side unbounded.
SELECT
    eni_groups.eni_id,
    sg_rules.rule_id,
    sg_rules.group_id,
    sg_rules.direction AS rule_direction,
    sg_rules.ip_protocol,
    CASE
        WHEN sg_rules.ip_protocol IN (6, 17) AND sg_rules.from_port >= 0 THEN sg_rules.from_port
    END AS port_lo,
    CASE
        WHEN sg_rules.ip_protocol IN (6, 17) AND sg_rules.to_port >= 0 THEN sg_rules.to_port
    END AS port_hi
FROM eni_groups
INNER JOIN sg_rules ON eni_groups.group_id = sg_rules.group_id
