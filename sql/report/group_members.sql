-- name: group_members
-- returns: one row per security group × member ENI of the snapshot: the ENI's type, instance,
--   private address, subnet, description and Name tag
-- params:
SELECT
    eni_groups.group_id, eni_groups.eni_id, enis.interface_type, enis.instance_id, enis.private_ip,
    enis.subnet_id, enis.description,
    ELEMENT_AT(enis.tags, 'Name')[1] AS name
FROM eni_groups
LEFT JOIN enis ON eni_groups.eni_id = enis.eni_id
ORDER BY eni_groups.group_id, eni_groups.eni_id
