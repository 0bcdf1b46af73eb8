-- name: observed_window
-- returns: accepted initiating conversations per ENI x (rule direction, protocol, peer, service
--     port) x attribution of the window: flows, distinct connections, first and last seen (the
--     set-based form of observed); unattributed: no snapshot places the ENI in security groups
--     at the conversation's time (status not_in_inventory), vpc_id: its VPC then; a window of
--     one day reads observed_day instead (no connection spans days there)
-- params: $first_day, $last_day
WITH per_connection AS (
    SELECT
        eni_id, rule_direction, protocol, peer_addr, service_port,
        initiator_addr, initiator_port, responder_addr, responder_port,
        COALESCE(status = 'not_in_inventory', FALSE) AS unattributed,
        vpc_id,
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
        initiator_addr, initiator_port, responder_addr, responder_port,
        COALESCE(status = 'not_in_inventory', FALSE), vpc_id
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
    MAX(last_seen) AS last_seen,
    unattributed,
    vpc_id
FROM per_connection
GROUP BY eni_id, rule_direction, protocol, peer_addr, service_port, unattributed, vpc_id
