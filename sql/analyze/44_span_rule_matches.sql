-- name: 44_span_rule_matches
-- returns: per (ENI, rule direction, protocol, peer, service port, epoch span) × rule that allowed
--     it at the time: the day's accepted initiating flows, connections, packets, bytes, first/last
--     record, how many rules allowed that key then, and latest_content (1: the rule's newest
--     content allowed it, which is what rule_usage counts)
WITH service_keys AS (
    SELECT
        eni_id, rule_direction, protocol, family, peer_key, service_port, ep_lo, ep_hi,
        MIN(peer_addr) AS peer_addr,
        SUM(flows) AS flows, COUNT(*) AS connections, SUM(packets) AS packets,
        SUM(bytes) AS bytes, MIN(first_start) AS first_start, MAX(last_end) AS last_end
    FROM conversation_sides
    WHERE eni_role IN ('initiator', 'responder') AND has_sgs AND flows > 0
    GROUP BY eni_id, rule_direction, protocol, family, peer_key, service_port, ep_lo, ep_hi
)
SELECT
    service_keys.*,
    span_key_rules.rule_id, span_key_rules.group_id, span_key_rules.matched_via,
    span_key_rules.latest_content,
    key_rule_counts.rules_matched
FROM service_keys
INNER JOIN span_key_rules
    ON
        service_keys.eni_id = span_key_rules.eni_id
        AND service_keys.rule_direction = span_key_rules.rule_direction
        AND service_keys.protocol = span_key_rules.protocol
        AND service_keys.family = span_key_rules.family
        AND service_keys.peer_key = span_key_rules.peer_key
        AND service_keys.service_port = span_key_rules.port
        AND service_keys.ep_lo = span_key_rules.ep_lo
        AND service_keys.ep_hi = span_key_rules.ep_hi
        AND span_key_rules.attributed AND span_key_rules.matched_via <> 'unplaced'
INNER JOIN key_rule_counts
    ON
        service_keys.eni_id = key_rule_counts.eni_id
        AND service_keys.rule_direction = key_rule_counts.rule_direction
        AND service_keys.protocol = key_rule_counts.protocol
        AND service_keys.family = key_rule_counts.family
        AND service_keys.peer_key = key_rule_counts.peer_key
        AND service_keys.service_port = key_rule_counts.port
        AND service_keys.ep_lo = key_rule_counts.ep_lo
        AND service_keys.ep_hi = key_rule_counts.ep_hi
