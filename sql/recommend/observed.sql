-- name: observed
-- returns: accepted initiating conversations per ENI x (rule direction, protocol, peer, service port): flows, distinct connections, first and last seen
-- params: $first_day, $last_day
SELECT eni_id, rule_direction, protocol, peer_addr, service_port,
       SUM(flows) AS flows, COUNT(*) AS connections, MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen
FROM (
    SELECT eni_id, rule_direction, protocol, peer_addr, service_port,
           initiator_addr, initiator_port, responder_addr, responder_port,
           SUM(flows) AS flows, MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen
    FROM conversations
    WHERE accepted AND eni_role IN ('initiator', 'responder') AND date BETWEEN $first_day AND $last_day
    GROUP BY eni_id, rule_direction, protocol, peer_addr, service_port,
             initiator_addr, initiator_port, responder_addr, responder_port
) AS c
GROUP BY eni_id, rule_direction, protocol, peer_addr, service_port
ORDER BY eni_id, rule_direction, protocol, peer_addr, service_port
