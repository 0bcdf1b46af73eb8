-- name: observed_keyed
-- returns: the observed tuples (rec_observed: one row per ENI x direction x protocol x peer x port) with an obs_id in replay order and the peer's addr key and family (rec_addr_keys); peers that are not addresses are left out, as the Python replay would reject them
SELECT ROW_NUMBER() OVER (ORDER BY o.eni_id, o.direction, o.protocol, o.peer_addr, o.port) AS obs_id,
       o.eni_id, o.direction, o.protocol, o.peer_addr, k.family, k.key AS peer_key, o.port,
       o.flows, o.connections, o.first_seen, o.last_seen
FROM rec_observed AS o
JOIN rec_addr_keys AS k ON k.addr = o.peer_addr
