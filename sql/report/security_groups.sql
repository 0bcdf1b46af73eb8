-- name: security_groups
-- returns: one row per security group of the inventory snapshot: name, description, VPC, default
--     flag, tags, rule and member counts
-- params:
SELECT
    security_groups.group_id,
    security_groups.group_name,
    security_groups.description,
    security_groups.vpc_id,
    security_groups.is_default,
    security_groups.tags,
    (
        SELECT COUNT(DISTINCT sg_rules.rule_id)
        FROM sg_rules
        WHERE sg_rules.group_id = security_groups.group_id
    ) AS rules,
    (
        SELECT COUNT(DISTINCT eni_groups.eni_id)
        FROM eni_groups
        WHERE eni_groups.group_id = security_groups.group_id
    ) AS members
FROM security_groups
ORDER BY security_groups.group_id
