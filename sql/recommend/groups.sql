-- name: groups
-- returns: one row per security group: its VPC, owner account, region and the keys of its tags;
--   the region is the group's own, else its member ENIs' (describe-security-groups JSON names no
--   region, the ENIs' availability zones do; a group is regional, so its ENIs share one)
WITH member_regions AS (
    SELECT
        eni_groups.group_id,
        MIN(enis.region) AS region,
        COUNT(DISTINCT enis.region) AS region_count
    FROM eni_groups
    INNER JOIN enis ON eni_groups.eni_id = enis.eni_id
    WHERE enis.region IS NOT NULL AND enis.region <> ''
    GROUP BY eni_groups.group_id
)

SELECT
    security_groups.group_id,
    security_groups.vpc_id,
    -- the owner the API stated, else the account whose role read the group (inventory --accounts)
    COALESCE(security_groups.owner_id, security_groups.account_id) AS owner_id,
    COALESCE(
        NULLIF(security_groups.region, ''),
        CASE WHEN member_regions.region_count = 1 THEN member_regions.region END
    ) AS region,
    MAP_KEYS(security_groups.tags) AS tag_keys
FROM security_groups
LEFT JOIN member_regions ON security_groups.group_id = member_regions.group_id
ORDER BY security_groups.group_id
