-- name: traffic
-- returns: the recorded conversations of one 5-tuple (initiator → responder:port, protocol) in
--     the window, summed per ENI that saw it, day, status and verdict; initiator_port is the
--     latest conversation's (the reply's destination port, what a NACL judges the reply by)
-- params: $first_day, $last_day, $src, $dst, $port, $protocol
WITH tuple_conversations AS (
    SELECT *
    FROM conversations
    WHERE
        date BETWEEN $first_day AND $last_day
        AND initiator_addr = $src
        AND responder_addr = $dst
        AND protocol = $protocol
        AND ($port IS NULL OR responder_port = $port)
)
SELECT
    eni_id,
    CAST(date AS VARCHAR) AS day,
    status,
    accepted,
    SUM(flows) AS flows,
    SUM(reply_flows) AS reply_flows,
    SUM(rejected_flows) AS rejected_flows,
    ARG_MAX(initiator_port, last_seen) AS initiator_port,
    MIN(first_seen) AS first_seen,
    MAX(last_seen) AS last_seen
FROM tuple_conversations
GROUP BY eni_id, date, status, accepted
ORDER BY day DESC, eni_id, status, accepted
