-- name: 36_match_rules
-- returns: the rules of each scope in each epoch as the rule-match join reads them (eni_id: the
--     scope as 35_match_keys names it; rule_id: the rule's content in force then,
--     33_rules_in_force's match_rule_id; group_id, rule_direction, ip_protocol, port_lo,
--     port_hi): for an ENI, the rules of the groups it possibly held in that epoch; for the VPC of
--     ENIs no inventory row places, every rule of that VPC ('vpc:*': of every VPC)
-- Ports bound only TCP and UDP rules (other protocols match on protocol only: ICMP type/code is
-- not in flow logs), and a missing or negative from/to port leaves that side unbounded.
WITH scoped AS (
    SELECT eni_groups.eni_id, rules_in_force.*
    FROM rules_in_force
    INNER JOIN eni_groups
        ON
            rules_in_force.group_id = eni_groups.group_id
            AND eni_groups.valid_from < rules_in_force.epoch_to
            AND eni_groups.valid_to > rules_in_force.epoch_from
    UNION ALL
    SELECT unplaced_vpcs.scope AS eni_id, rules_in_force.*
    FROM rules_in_force
    INNER JOIN (
        SELECT DISTINCT vpc_id, 'vpc:' || COALESCE(vpc_id, '*') AS scope FROM unattributed_enis
    ) AS unplaced_vpcs
        ON unplaced_vpcs.vpc_id IS NULL OR rules_in_force.vpc_id = unplaced_vpcs.vpc_id
)
SELECT
    eni_id || '/' || CAST(epoch AS VARCHAR) AS eni_id,
    match_rule_id AS rule_id,
    group_id,
    direction AS rule_direction,
    ip_protocol,
    CASE WHEN ip_protocol IN (6, 17) AND from_port >= 0 THEN from_port END AS port_lo,
    CASE WHEN ip_protocol IN (6, 17) AND to_port >= 0 THEN to_port END AS port_hi
FROM scoped
