-- name: eni_groups
-- returns: one row per ENI x attached security group
SELECT eni_id, group_id
FROM eni_groups
ORDER BY eni_id, group_id
