-- name: observed_addresses
-- returns: the distinct peer addresses of the window's accepted initiating conversations; the
--     pipeline turns them into addr keys in Python
-- params: $first_day, $last_day
SELECT DISTINCT peer_addr AS addr
FROM conversations
WHERE
    accepted AND eni_role IN ('initiator', 'responder')
    AND date BETWEEN $first_day AND $last_day
    AND peer_addr IS NOT NULL AND rule_direction IS NOT NULL
