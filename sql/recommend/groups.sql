-- name: groups
-- returns: one row per security group: its VPC and the keys of its tags
SELECT group_id, vpc_id, MAP_KEYS(tags) AS tag_keys
FROM security_groups
ORDER BY group_id
