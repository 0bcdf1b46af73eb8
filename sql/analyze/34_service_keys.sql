-- name: 34_service_keys
-- returns: per rule key of the conversations on SG-filtered ENIs (ENI, rule direction, protocol,
--     family, peer key id peer_kid, service port, epoch span ep_lo..ep_hi): every key any such
--     conversation has (the keys 35_match_keys matches against rules), and over its accepted
--     initiating ones (flows > 0): an example peer_addr, flows, connections, packets, bytes, first
--     and last record (connections 0: no such conversation; its other aggregates are NULL)
-- The one grouping of the conversations by rule key: 35_match_keys reads the keys and
-- 44_span_rule_matches the aggregates, so the day's conversations are grouped once, not twice,
-- and on integers: peer_kid is the peer's addr_keys key_id, not its 32-character key.
SELECT
    eni_id, rule_direction, protocol, family, peer_kid, service_port, ep_lo, ep_hi,
    MIN(CASE WHEN flows > 0 THEN peer_addr END) AS peer_addr,
    SUM(CASE WHEN flows > 0 THEN flows END) AS flows,
    COUNT(CASE WHEN flows > 0 THEN 1 END) AS connections,
    SUM(CASE WHEN flows > 0 THEN packets END) AS packets,
    SUM(CASE WHEN flows > 0 THEN bytes END) AS bytes,
    MIN(CASE WHEN flows > 0 THEN first_start END) AS first_start,
    MAX(CASE WHEN flows > 0 THEN last_end END) AS last_end
FROM conversation_sides
WHERE eni_role IN ('initiator', 'responder') AND has_sgs
GROUP BY eni_id, rule_direction, protocol, family, peer_kid, service_port, ep_lo, ep_hi
