-- name: observed_keyed
-- returns: the observed tuples (rec_observed: one row per ENI x rule direction x protocol x peer
--     x port x attribution) with an obs_id in replay order, the peer's addr key and family
--     (rec_addr_keys) and the holder whose pieces of time judge them: the ENI, or for
--     unattributed tuples 'vpc:' and their VPC ('vpc:*' when unknown); peers that are not
--     addresses are left out, as the Python replay would reject them
SELECT
    ROW_NUMBER() OVER (
        ORDER BY
            observed.eni_id, observed.rule_direction, observed.protocol, observed.peer_addr,
            observed.port, observed.unattributed
    ) AS obs_id,
    observed.eni_id,
    observed.rule_direction,
    observed.protocol,
    observed.peer_addr,
    addr_keys.family,
    addr_keys.key AS peer_key,
    observed.port,
    observed.flows,
    observed.connections,
    observed.first_seen,
    observed.last_seen,
    observed.unattributed,
    observed.vpc_id,
    CASE
        WHEN observed.unattributed THEN CONCAT('vpc:', COALESCE(NULLIF(observed.vpc_id, ''), '*'))
        ELSE observed.eni_id
    END AS holder
FROM rec_observed AS observed
INNER JOIN rec_addr_keys AS addr_keys ON observed.peer_addr = addr_keys.addr
