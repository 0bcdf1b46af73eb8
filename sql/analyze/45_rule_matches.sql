-- name: 45_rule_matches
-- returns: the full match set (results table rule_matches): per (ENI, rule direction, protocol,
--     peer, service port) × allowing rule, the day's accepted initiating flows, connections,
--     packets, bytes, first/last seen, and how many rules allow that key
WITH per_service AS (
    SELECT
        eni_id,
        rule_direction,
        protocol,
        family,
        peer_key,
        MIN(peer_addr) AS peer_addr,
        service_port,
        SUM(flows) AS flows,
        COUNT(*) AS connections,
        SUM(packets) AS packets,
        SUM(bytes) AS bytes,
        MIN(first_start) AS first_start,
        MAX(last_end) AS last_end
    FROM conversation_sides
    WHERE eni_role IN ('initiator', 'responder') AND has_sgs AND flows > 0
    GROUP BY eni_id, rule_direction, protocol, family, peer_key, service_port
)
SELECT
    per_service.eni_id,
    per_service.rule_direction,
    per_service.protocol,
    CAST(per_service.family AS TINYINT) AS family,
    per_service.peer_addr,
    per_service.service_port,
    key_rules.rule_id,
    key_rules.group_id,
    key_rules.matched_via,
    key_rule_counts.rules_matched,
    per_service.flows,
    per_service.connections,
    per_service.packets,
    per_service.bytes,
    TO_TIMESTAMP(per_service.first_start) AS first_seen,
    TO_TIMESTAMP(per_service.last_end) AS last_seen
FROM per_service
INNER JOIN key_rules
    ON
        per_service.eni_id = key_rules.eni_id
        AND per_service.rule_direction = key_rules.rule_direction
        AND per_service.protocol = key_rules.protocol
        AND per_service.family = key_rules.family
        AND per_service.peer_key = key_rules.peer_key
        AND per_service.service_port = key_rules.port
INNER JOIN key_rule_counts
    ON
        per_service.eni_id = key_rule_counts.eni_id
        AND per_service.rule_direction = key_rule_counts.rule_direction
        AND per_service.protocol = key_rule_counts.protocol
        AND per_service.family = key_rule_counts.family
        AND per_service.peer_key = key_rule_counts.peer_key
        AND per_service.service_port = key_rule_counts.port
