-- name: 34_reject_keys
-- returns: distinct (ENI, direction seen from the ENI, protocol, family, remote address key,
--     destination port, epoch span) of the day's REJECT records on ENIs whose own side is known;
--     the keys the NACL and SG checks of rejected traffic are evaluated on
WITH rejecting_sides AS (
    SELECT
        eni_id,
        CASE WHEN local_side = 'lo' THEN 'egress' ELSE 'ingress' END AS direction,
        protocol, family,
        CASE WHEN local_side = 'lo' THEN hi_key ELSE lo_key END AS remote_key,
        hi_port AS port, ep_lo, ep_hi
    FROM conversation_sides
    WHERE
        local_side IS NOT NULL
        AND ((init_side = 'lo' AND init_rejected > 0) OR (init_side = 'hi' AND reply_rejected > 0))
    UNION ALL
    SELECT
        eni_id,
        CASE WHEN local_side = 'hi' THEN 'egress' ELSE 'ingress' END AS direction,
        protocol, family,
        CASE WHEN local_side = 'hi' THEN lo_key ELSE hi_key END AS remote_key,
        lo_port AS port, ep_lo, ep_hi
    FROM conversation_sides
    WHERE
        local_side IS NOT NULL
        AND ((init_side = 'hi' AND init_rejected > 0) OR (init_side = 'lo' AND reply_rejected > 0))
)
SELECT DISTINCT eni_id, direction, protocol, family, remote_key, port, ep_lo, ep_hi
FROM rejecting_sides
