-- name: group_members
-- returns: one row per security group × member ENI of the snapshot: the ENI's type, instance, private
--   address, subnet, description and Name tag
-- params:
SELECT
    g.group_id, g.eni_id, e.interface_type, e.instance_id, e.private_ip, e.subnet_id, e.description,
    element_at(e.tags, 'Name')[1] AS name
FROM eni_groups AS g
LEFT JOIN enis AS e ON e.eni_id = g.eni_id
ORDER BY g.group_id, g.eni_id
