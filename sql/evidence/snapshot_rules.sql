-- name: snapshot_rules
-- returns: one row per SG rule of the inventory snapshot, the fields its allowed set is made of
SELECT rule_id, group_id, direction, ip_protocol, from_port, to_port, peer_type, peer
FROM sg_rules
ORDER BY group_id, rule_id
