-- name: current_rules
-- returns: one row per SG rule of the inventory snapshot, with the keys of its tags
SELECT
    rule_id, group_id, direction, ip_protocol, from_port, to_port, peer_type, peer,
    description,
    MAP_KEYS(tags) AS tag_keys
FROM sg_rules
ORDER BY group_id, rule_id
