-- name: groups
-- returns: one row per security group: its VPC, owner account and region, and the keys of its tags
SELECT group_id, vpc_id, owner_id, region, map_keys(tags) AS tag_keys
FROM security_groups
ORDER BY group_id
