-- name: known_groups
-- returns: one row per security group of the snapshot (a reference to any other is unknown)
SELECT group_id
FROM security_groups
ORDER BY group_id
