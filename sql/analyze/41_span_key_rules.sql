-- name: 41_span_key_rules
-- returns: the rule-match join (40_key_rules) in the ENI's and the rule's own ids: per match key
--     with its epoch span × rule that allowed it in some epoch of the span, matched_via,
--     attributed (the ENI's groups are known: a proven match unless unplaced), peer_addr (an
--     example, unattributed keys only) and latest_content (1 when the rule's newest content is
--     among the contents that allowed it); the peer by its key id (peer_kid) only
SELECT
    key_rules.key_eni_id AS eni_id, key_rules.rule_direction, key_rules.protocol,
    key_rules.family, key_rules.peer_kid, key_rules.port, key_rules.ep_lo, key_rules.ep_hi,
    key_rules.attributed, key_rules.peer_addr, rules_in_force.rule_id, key_rules.group_id,
    key_rules.matched_via, MAX(rules_in_force.latest_content) AS latest_content
FROM key_rules
INNER JOIN rules_in_force ON key_rules.rule_id = rules_in_force.match_rule_id
GROUP BY
    key_rules.key_eni_id, key_rules.rule_direction, key_rules.protocol, key_rules.family,
    key_rules.peer_kid, key_rules.port, key_rules.ep_lo, key_rules.ep_hi, key_rules.attributed,
    key_rules.peer_addr, rules_in_force.rule_id, key_rules.group_id, key_rules.matched_via
