-- name: example_conversation
-- returns: the conversation_id of the latest conversation on $day that a verification example
--   describes (its ENI, rule direction, protocol, peer and service port), for 'flowlens explain
--   --conversation-id'; no row when that day's results are gone
-- params: $day, $eni_id, $direction, $protocol, $peer, $port
SELECT conversation_id
FROM conversations
WHERE
    date = $day
    AND eni_id = $eni_id
    AND rule_direction = $direction
    AND protocol = $protocol
    AND peer_addr = $peer
    AND ($port IS NULL OR service_port = $port)
ORDER BY last_seen DESC, conversation_id
LIMIT 1
