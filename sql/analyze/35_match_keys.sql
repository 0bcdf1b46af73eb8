-- name: 35_match_keys
-- returns: the distinct keys (ENI, rule direction, protocol, family, peer key, port) to match
--     against SG rules: every conversation's rule key on an SG-filtered ENI, plus every rejected
--     key
SELECT DISTINCT eni_id, rule_direction, protocol, family, peer_key, service_port AS port
FROM conversation_sides
WHERE eni_role IN ('initiator', 'responder') AND has_sgs
UNION
SELECT
    eni_id,
    direction AS rule_direction,
    protocol,
    family,
    remote_key AS peer_key,
    port
FROM reject_keys
