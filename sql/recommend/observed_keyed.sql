-- name: observed_keyed
-- returns: the observed tuples (rec_observed: one row per ENI x rule direction x protocol x peer
--     x port) with an obs_id in replay order and the peer's addr key and family (rec_addr_keys);
--     peers that are not addresses are left out, as the Python replay would reject them
SELECT
    ROW_NUMBER() OVER (
        ORDER BY
            observed.eni_id, observed.rule_direction, observed.protocol, observed.peer_addr,
            observed.port
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
    observed.last_seen
FROM rec_observed AS observed
INNER JOIN rec_addr_keys AS addr_keys ON observed.peer_addr = addr_keys.addr
