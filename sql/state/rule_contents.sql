-- name: rule_contents
-- returns: the content of every rule of the newest snapshot (what a dismissal's key is made of)
-- params:
SELECT group_id, direction, ip_protocol, from_port, to_port, peer
FROM sg_rules
