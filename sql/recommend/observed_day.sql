-- name: observed_day
-- returns: observed_window for a window of one day, in one pass: the conversations table holds
--     one row per ENI x conversation x day (docs/tables.md#conversations), so on one day each row
--     is one connection of its tuple, and its connections are its rows (observed_window merges a
--     connection's rows over several days first)
-- params: $day
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
    COALESCE(status = 'not_in_inventory', FALSE) AS unattributed,
    vpc_id
FROM conversations
WHERE
    accepted AND eni_role IN ('initiator', 'responder')
    AND date = $day
    AND peer_addr IS NOT NULL AND rule_direction IS NOT NULL
GROUP BY
    eni_id, rule_direction, protocol, peer_addr, service_port,
    COALESCE(status = 'not_in_inventory', FALSE), vpc_id
