-- name: sg_rules
-- returns: one row per SG rule × peer of the inventory snapshot, the fields exposure needs
-- params:
SELECT rule_id, group_id, direction, ip_protocol, from_port, to_port, peer_type, peer, description
FROM sg_rules
ORDER BY group_id, direction, rule_id, peer
