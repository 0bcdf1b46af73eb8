-- name: 50_conversations
-- returns: the results table conversations: one row per ENI conversation of the day with its
--     initiator, how that was decided, the rule key it exercises, whether a rule in force at its
--     time allows it, and the ENI's VPC
SELECT
    conversation_sides.eni_id, CAST(conversation_sides.family AS TINYINT) AS family,
    conversation_sides.protocol,
    conversation_sides.initiator_addr, conversation_sides.initiator_port,
    conversation_sides.responder_addr, conversation_sides.responder_port,
    conversation_sides.eni_role, conversation_sides.rule_direction, conversation_sides.peer_addr,
    conversation_sides.service_port, conversation_sides.decided_by, conversation_sides.confidence,
    conversation_sides.flows > 0 AS accepted, conversation_sides.flows,
    conversation_sides.reply_flows, conversation_sides.rejected_flows,
    conversation_sides.packets, conversation_sides.bytes,
    TO_TIMESTAMP(conversation_sides.first_start) AS first_seen,
    TO_TIMESTAMP(conversation_sides.last_end) AS last_seen,
    CASE
        WHEN NOT conversation_sides.in_inventory THEN 'not_in_inventory'
        WHEN conversation_sides.eni_role = 'transit' THEN 'transit'
        WHEN conversation_sides.flows = 0 THEN 'rejected'
        WHEN COALESCE(key_rule_counts.rules_matched, 0) > 0 THEN 'allowed'
        ELSE 'no_rule'
    END AS status,
    CAST(COALESCE(key_rule_counts.rules_matched, 0) AS BIGINT) AS matched_rules,
    conversation_sides.reply_packets, conversation_sides.reply_bytes,
    COALESCE(eni_info.vpc_id, unattributed_enis.vpc_id) AS vpc_id
FROM conversation_sides
LEFT JOIN key_rule_counts
    ON
        conversation_sides.eni_id = key_rule_counts.eni_id
        AND conversation_sides.rule_direction = key_rule_counts.rule_direction
        AND conversation_sides.protocol = key_rule_counts.protocol
        AND conversation_sides.family = key_rule_counts.family
        AND conversation_sides.peer_kid = key_rule_counts.peer_kid
        AND conversation_sides.service_port = key_rule_counts.port
        AND conversation_sides.ep_lo = key_rule_counts.ep_lo
        AND conversation_sides.ep_hi = key_rule_counts.ep_hi
LEFT JOIN eni_info ON conversation_sides.eni_id = eni_info.eni_id
LEFT JOIN unattributed_enis ON conversation_sides.eni_id = unattributed_enis.eni_id
