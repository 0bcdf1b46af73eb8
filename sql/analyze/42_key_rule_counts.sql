-- name: 42_key_rule_counts
-- returns: per attributed match key and epoch span, how many distinct rules of the ENI's SGs
--     allowed it at its time (1 = a sole rule); possible matches (unattributed, unplaced) do not
--     count
SELECT
    eni_id, rule_direction, protocol, family, peer_kid, port, ep_lo, ep_hi,
    COUNT(DISTINCT rule_id) AS rules_matched
FROM span_key_rules
WHERE attributed AND matched_via <> 'unplaced'
GROUP BY eni_id, rule_direction, protocol, family, peer_kid, port, ep_lo, ep_hi
