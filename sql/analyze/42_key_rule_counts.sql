-- name: 42_key_rule_counts
-- returns: per match key, how many distinct rules of the ENI's SGs allow it (1 = a sole rule)
SELECT
    eni_id,
    rule_direction,
    protocol,
    family,
    peer_key,
    port,
    COUNT(DISTINCT rule_id) AS rules_matched
FROM key_rules
GROUP BY eni_id, rule_direction, protocol, family, peer_key, port
