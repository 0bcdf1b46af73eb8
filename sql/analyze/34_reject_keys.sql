-- name: 34_reject_keys
-- returns: distinct (ENI, direction seen from the ENI, protocol, family, remote address key as
--     its id remote_kid and its key remote_key, destination port, epoch span) of the day's REJECT
--     records on ENIs whose own side is known; the keys the NACL and SG checks of rejected
--     traffic are evaluated on (48_nacl_verdicts tests remote_key against NACL ranges, 35 and 70
--     join by remote_kid)
WITH rejecting_sides AS (
    SELECT
        eni_id,
        CASE WHEN local_side = 'lo' THEN 'egress' ELSE 'ingress' END AS direction,
        protocol, family,
        CASE WHEN local_side = 'lo' THEN hi_kid ELSE lo_kid END AS remote_kid,
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
        CASE WHEN local_side = 'hi' THEN lo_kid ELSE hi_kid END AS remote_kid,
        lo_port AS port, ep_lo, ep_hi
    FROM conversation_sides
    WHERE
        local_side IS NOT NULL
        AND ((init_side = 'hi' AND init_rejected > 0) OR (init_side = 'lo' AND reply_rejected > 0))
), distinct_keys AS (
    SELECT DISTINCT eni_id, direction, protocol, family, remote_kid, port, ep_lo, ep_hi
    FROM rejecting_sides
), key_names AS (
    -- one key per key id
    SELECT DISTINCT key_id, key FROM addr_keys
)
SELECT
    distinct_keys.eni_id, distinct_keys.direction, distinct_keys.protocol, distinct_keys.family,
    distinct_keys.remote_kid, key_names.key AS remote_key,
    distinct_keys.port, distinct_keys.ep_lo, distinct_keys.ep_hi
FROM distinct_keys
INNER JOIN key_names ON distinct_keys.remote_kid = key_names.key_id
