-- name: 44_span_rule_matches
-- returns: per (ENI, rule direction, protocol, peer, service port, epoch span) × rule that allowed
--     it at the time: the day's accepted initiating flows, connections, packets, bytes, first/last
--     record, how many rules allowed that key then, and latest_content (1: the rule's newest
--     content allowed it, which is what rule_usage counts)
WITH accepted_keys AS (
    -- the keys with accepted initiating conversations (34_service_keys has every key)
    SELECT
        eni_id, rule_direction, protocol, family, peer_kid, service_port, ep_lo, ep_hi,
        peer_addr, flows, connections, packets, bytes, first_start, last_end
    FROM service_keys
    WHERE connections > 0
)
SELECT
    accepted_keys.*,
    span_key_rules.rule_id, span_key_rules.group_id, span_key_rules.matched_via,
    span_key_rules.latest_content,
    key_rule_counts.rules_matched
FROM accepted_keys
INNER JOIN span_key_rules
    ON
        accepted_keys.eni_id = span_key_rules.eni_id
        AND accepted_keys.rule_direction = span_key_rules.rule_direction
        AND accepted_keys.protocol = span_key_rules.protocol
        AND accepted_keys.family = span_key_rules.family
        AND accepted_keys.peer_kid = span_key_rules.peer_kid
        AND accepted_keys.service_port = span_key_rules.port
        AND accepted_keys.ep_lo = span_key_rules.ep_lo
        AND accepted_keys.ep_hi = span_key_rules.ep_hi
        AND span_key_rules.attributed AND span_key_rules.matched_via <> 'unplaced'
INNER JOIN key_rule_counts
    ON
        accepted_keys.eni_id = key_rule_counts.eni_id
        AND accepted_keys.rule_direction = key_rule_counts.rule_direction
        AND accepted_keys.protocol = key_rule_counts.protocol
        AND accepted_keys.family = key_rule_counts.family
        AND accepted_keys.peer_kid = key_rule_counts.peer_kid
        AND accepted_keys.service_port = key_rule_counts.port
        AND accepted_keys.ep_lo = key_rule_counts.ep_lo
        AND accepted_keys.ep_hi = key_rule_counts.ep_hi
