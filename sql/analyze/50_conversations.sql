-- name: 50_conversations
-- returns: the results table conversations: one row per ENI conversation of the day with its initiator, how that was decided, the rule key it exercises and whether a current rule allows it
SELECT
    cs.eni_id, CAST(cs.family AS TINYINT) AS family, cs.protocol,
    cs.initiator_addr, cs.initiator_port, cs.responder_addr, cs.responder_port,
    cs.eni_role, cs.rule_direction, cs.peer_addr, cs.service_port, cs.decided_by, cs.confidence,
    cs.flows > 0 AS accepted, cs.flows, cs.reply_flows, cs.rejected_flows, cs.packets, cs.bytes,
    to_timestamp(cs.first_start) AS first_seen, to_timestamp(cs.last_end) AS last_seen,
    CASE
        WHEN NOT cs.in_inventory THEN 'not_in_inventory'
        WHEN cs.eni_role = 'transit' THEN 'transit'
        WHEN cs.flows = 0 THEN 'rejected'
        WHEN COALESCE(n.rules_matched, 0) > 0 THEN 'allowed'
        ELSE 'no_rule'
    END AS status,
    CAST(COALESCE(n.rules_matched, 0) AS BIGINT) AS matched_rules,
    cs.reply_packets, cs.reply_bytes
FROM conversation_sides cs
LEFT JOIN key_rule_counts n
    ON n.eni_id = cs.eni_id AND n.rule_direction = cs.rule_direction AND n.protocol = cs.protocol
   AND n.family = cs.family AND n.peer_key = cs.peer_key AND n.port = cs.service_port
