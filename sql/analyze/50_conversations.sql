-- name: 50_conversations
-- returns: the results table conversations: one row per ENI conversation of the day with its
--     initiator, how that was decided, the rule key it exercises and whether a current rule
--     allows it
SELECT
    sides.eni_id,
    CAST(sides.family AS TINYINT) AS family,
    sides.protocol,
    sides.initiator_addr,
    sides.initiator_port,
    sides.responder_addr,
    sides.responder_port,
    sides.eni_role,
    sides.rule_direction,
    sides.peer_addr,
    sides.service_port,
    sides.decided_by,
    sides.confidence,
    sides.flows > 0 AS accepted,
    sides.flows,
    sides.reply_flows,
    sides.rejected_flows,
    sides.packets,
    sides.bytes,
    TO_TIMESTAMP(sides.first_start) AS first_seen,
    TO_TIMESTAMP(sides.last_end) AS last_seen,
    CASE
        WHEN NOT sides.in_inventory THEN 'not_in_inventory'
        WHEN sides.eni_role = 'transit' THEN 'transit'
        WHEN sides.flows = 0 THEN 'rejected'
        WHEN COALESCE(key_rule_counts.rules_matched, 0) > 0 THEN 'allowed'
        ELSE 'no_rule'
    END AS status,
    CAST(COALESCE(key_rule_counts.rules_matched, 0) AS BIGINT) AS matched_rules,
    sides.reply_packets,
    sides.reply_bytes
FROM conversation_sides AS sides
LEFT JOIN key_rule_counts
    ON
        sides.eni_id = key_rule_counts.eni_id
        AND sides.rule_direction = key_rule_counts.rule_direction
        AND sides.protocol = key_rule_counts.protocol
        AND sides.family = key_rule_counts.family
        AND sides.peer_key = key_rule_counts.peer_key
        AND sides.service_port = key_rule_counts.port
