-- name: 45_rule_matches
-- returns: the full match set (results table rule_matches): per (ENI, rule direction, protocol, peer, service port) × allowing rule, the day's accepted initiating flows, connections, packets, bytes, first/last seen, and how many rules allow that key
WITH svc AS (
    SELECT eni_id, rule_direction, protocol, family, peer_key, MIN(peer_addr) AS peer_addr, service_port,
           SUM(flows) AS flows, COUNT(*) AS connections, SUM(packets) AS packets, SUM(bytes) AS bytes,
           MIN(first_start) AS first_start, MAX(last_end) AS last_end
    FROM conversation_sides
    WHERE eni_role IN ('initiator', 'responder') AND has_sgs AND flows > 0
    GROUP BY eni_id, rule_direction, protocol, family, peer_key, service_port
)
SELECT
    s.eni_id, s.rule_direction, s.protocol, CAST(s.family AS TINYINT) AS family, s.peer_addr, s.service_port,
    kr.rule_id, kr.group_id, kr.matched_via, n.rules_matched,
    s.flows, s.connections, s.packets, s.bytes,
    to_timestamp(s.first_start) AS first_seen, to_timestamp(s.last_end) AS last_seen
FROM svc s
JOIN key_rules kr
    ON kr.eni_id = s.eni_id AND kr.rule_direction = s.rule_direction AND kr.protocol = s.protocol
   AND kr.family = s.family AND kr.peer_key = s.peer_key AND kr.port = s.service_port
JOIN key_rule_counts n
    ON n.eni_id = s.eni_id AND n.rule_direction = s.rule_direction AND n.protocol = s.protocol
   AND n.family = s.family AND n.peer_key = s.peer_key AND n.port = s.service_port
