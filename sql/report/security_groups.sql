-- name: security_groups
-- returns: one row per security group of the inventory snapshot: name, description, VPC, default flag, tags, rule and member counts
-- params:
SELECT
    sg.group_id, sg.group_name, sg.description, sg.vpc_id, sg.is_default, sg.tags,
    (SELECT COUNT(DISTINCT r.rule_id) FROM sg_rules AS r WHERE r.group_id = sg.group_id) AS rules,
    (SELECT COUNT(DISTINCT g.eni_id) FROM eni_groups AS g WHERE g.group_id = sg.group_id) AS members
FROM security_groups AS sg
ORDER BY sg.group_id
