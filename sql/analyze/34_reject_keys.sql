-- name: 34_reject_keys
-- returns: distinct (ENI, direction seen from the ENI, protocol, family, remote address key,
--     destination port) of the day's REJECT records on ENIs whose own side is known; the keys the
--     NACL and SG checks of rejected traffic are evaluated on
-- The lo→hi records (sent by the initiator when lo initiated) go to hi's port, the hi→lo ones to
-- lo's port; the direction is egress when the sender is the ENI's own side.
WITH lo_to_hi AS (
    SELECT
        eni_id,
        CASE WHEN local_side = 'lo' THEN 'egress' ELSE 'ingress' END AS direction,
        protocol,
        family,
        CASE WHEN local_side = 'lo' THEN hi_key ELSE lo_key END AS remote_key,
        hi_port AS port
    FROM conversation_sides
    WHERE
        local_side IS NOT NULL
        AND (
            (init_side = 'lo' AND init_rejected > 0)
            OR (init_side = 'hi' AND reply_rejected > 0)
        )
), hi_to_lo AS (
    SELECT
        eni_id,
        CASE WHEN local_side = 'hi' THEN 'egress' ELSE 'ingress' END AS direction,
        protocol,
        family,
        CASE WHEN local_side = 'hi' THEN lo_key ELSE hi_key END AS remote_key,
        lo_port AS port
    FROM conversation_sides
    WHERE
        local_side IS NOT NULL
        AND (
            (init_side = 'hi' AND init_rejected > 0)
            OR (init_side = 'lo' AND reply_rejected > 0)
        )
)
SELECT eni_id, direction, protocol, family, remote_key, port FROM lo_to_hi
UNION
SELECT eni_id, direction, protocol, family, remote_key, port FROM hi_to_lo
