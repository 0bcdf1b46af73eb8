-- name: 20_eni_info
-- returns: one row per ENI the day's inventory places at some time of the day: its subnet, NACL,
--     interface type and how many SGs it had during the day (0 = not SG-filtered: NAT gateway,
--     TGW, GWLB ENIs are transit), from its newest row of the day
-- An ENI's subnet and type never change; its status, instance and groups may (the timeline holds
-- one row per content), so the newest content describes it and the groups of the whole day count.
WITH eni_versions AS (
    SELECT
        eni_id, vpc_id, subnet_id, interface_type, instance_id, status,
        ROW_NUMBER() OVER (PARTITION BY eni_id ORDER BY valid_from DESC, seen_to DESC) AS newness
    FROM enis
), subnet_versions AS (
    SELECT
        subnet_id, nacl_id,
        ROW_NUMBER() OVER (PARTITION BY subnet_id ORDER BY valid_from DESC, seen_to DESC) AS newness
    FROM subnets
), group_counts AS (
    SELECT eni_id, COUNT(DISTINCT group_id) AS n_groups
    FROM eni_groups
    GROUP BY eni_id
)
SELECT
    eni_versions.eni_id, eni_versions.vpc_id, eni_versions.subnet_id, subnet_versions.nacl_id,
    eni_versions.interface_type, eni_versions.instance_id, eni_versions.status,
    COALESCE(group_counts.n_groups, 0) AS n_groups,
    COALESCE(group_counts.n_groups, 0) > 0 AS has_sgs
FROM eni_versions
LEFT JOIN subnet_versions
    ON eni_versions.subnet_id = subnet_versions.subnet_id AND subnet_versions.newness = 1
LEFT JOIN group_counts ON eni_versions.eni_id = group_counts.eni_id
WHERE eni_versions.newness = 1
