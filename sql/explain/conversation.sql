-- name: conversation
-- returns: the conversations row(s) whose conversation_id is $conversation_id, on the days from
--     $first_day to $last_day (NULL: every analysed day); the key columns explain needs and the
--     row's first and last packet
-- params: $conversation_id, $first_day, $last_day
SELECT
    conversation_id,
    CAST(date AS VARCHAR) AS day,
    eni_id,
    protocol,
    initiator_addr,
    initiator_port,
    responder_addr,
    responder_port,
    rule_direction,
    status,
    first_seen,
    last_seen
FROM conversations
WHERE
    ($first_day IS NULL OR date BETWEEN $first_day AND $last_day)
    AND conversation_id = $conversation_id
ORDER BY date, eni_id
