-- name: rule_by_id
-- returns: the newest snapshot's rule with that id (one row per peer; a rule has one)
-- params: $rule_id
SELECT rule_id, group_id, direction, ip_protocol, from_port, to_port, peer_type, peer, description
FROM sg_rules
WHERE rule_id = $rule_id
