-- name: observed_window
-- returns: accepted initiating conversations per ENI x (rule direction, protocol, peer, service
--     port) of the window: flows, distinct connections, first and last seen (the set-based form
--     of observed)
-- params: $first_day, $last_day
WITH per_connection AS (
    SELECT
        eni_id, rule_direction, protocol, peer_addr, service_port,
        initiator_addr, initiator_port, responder_addr, responder_port,
        SUM(flows) AS flows,
        MIN(first_seen) AS first_seen,
        MAX(last_seen) AS last_seen
    FROM conversations
    WHERE
        accepted AND eni_role IN ('initiator', 'responder')
        AND date BETWEEN $first_day AND $last_day
        AND peer_addr IS NOT NULL AND rule_direction IS NOT NULL
    GROUP BY
        eni_id, rule_direction, protocol, peer_addr, service_port,
        initiator_addr, initiator_port, responder_addr, responder_port
)
SELECT
    eni_id,
    rule_direction,
    protocol,
    peer_addr,
    service_port AS port,
    SUM(flows) AS flows,
    COUNT(*) AS connections,
    MIN(first_seen) AS first_seen,
    MAX(last_seen) AS last_seen
FROM per_connection
GROUP BY eni_id, rule_direction, protocol, peer_addr, service_port
