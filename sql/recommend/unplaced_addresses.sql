-- name: unplaced_addresses
-- returns: per address an ENI that no snapshot places used as its own in the window (the
--     initiator's address on the initiator's ENI, the responder's on the responder's) and its
--     VPC: the first and last time of its conversations
-- params: $first_day, $last_day
SELECT
    CASE WHEN eni_role = 'initiator' THEN initiator_addr ELSE responder_addr END AS address,
    vpc_id,
    MIN(first_seen) AS first_seen,
    MAX(last_seen) AS last_seen
FROM conversations
WHERE
    status = 'not_in_inventory' AND eni_role IN ('initiator', 'responder')
    AND date BETWEEN $first_day AND $last_day
    AND first_seen IS NOT NULL AND last_seen IS NOT NULL
GROUP BY CASE WHEN eni_role = 'initiator' THEN initiator_addr ELSE responder_addr END, vpc_id
HAVING CASE WHEN eni_role = 'initiator' THEN initiator_addr ELSE responder_addr END IS NOT NULL
