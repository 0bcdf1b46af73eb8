-- name: 81_findings_groups
-- returns: posture findings from group membership: default_sg_in_use, moat_and_castle (one SG on
--     every instance ENI of a VPC with 3 or more; requester-managed service ENIs such as load
--     balancers and RDS have no instance_id and do not count), sg_per_instance (most SGs of a VPC
--     each guard a single instance)
WITH membership AS (
    SELECT
        eni_groups.group_id,
        eni_info.vpc_id,
        eni_groups.eni_id,
        eni_info.instance_id,
        COALESCE(eni_info.instance_id, eni_groups.eni_id) AS workload
    FROM eni_groups
    INNER JOIN eni_info ON eni_groups.eni_id = eni_info.eni_id
), vpc_instance_enis AS (
    SELECT vpc_id, COUNT(DISTINCT eni_id) AS enis
    FROM eni_info
    WHERE instance_id IS NOT NULL
    GROUP BY vpc_id
), per_group AS (
    SELECT
        group_id,
        vpc_id,
        COUNT(DISTINCT eni_id) AS enis,
        COUNT(DISTINCT workload) AS workloads,
        MIN(eni_id) AS sample_eni,
        COUNT(DISTINCT CASE WHEN instance_id IS NOT NULL THEN eni_id END) AS instance_enis
    FROM membership
    GROUP BY group_id, vpc_id
), single_instance AS (
    SELECT
        vpc_id,
        COUNT(*) AS groups_in_use,
        SUM(CASE WHEN workloads = 1 THEN 1 ELSE 0 END) AS single_groups
    FROM per_group
    GROUP BY vpc_id
)
SELECT
    'default_sg_in_use' AS kind,
    'medium' AS severity,
    per_group.group_id AS resource_id,
    per_group.group_id,
    CAST(NULL AS VARCHAR) AS rule_id,
    'Default security group in use' AS title,
    'the default security group ' || per_group.group_id || ' of ' || per_group.vpc_id
    || ' is attached to ' || CAST(per_group.enis AS VARCHAR) || ' ENIs (e.g. '
    || per_group.sample_eni || '); its self-reference lets all members talk on every port'
    AS detail,
    CAST(JSON_OBJECT(
        'vpc_id', per_group.vpc_id, 'enis', per_group.enis, 'sample_eni', per_group.sample_eni
    ) AS VARCHAR) AS evidence
FROM per_group
-- a group the day's inventory holds in several contents (a tag changed) counts once
INNER JOIN (SELECT DISTINCT group_id FROM security_groups WHERE is_default) AS default_groups
    ON per_group.group_id = default_groups.group_id
UNION ALL
SELECT
    'moat_and_castle',
    'medium',
    per_group.group_id,
    per_group.group_id,
    CAST(NULL AS VARCHAR),
    'One security group on every instance',
    per_group.group_id || ' is attached to all ' || CAST(vpc_instance_enis.enis AS VARCHAR)
    || ' instance ENIs of ' || per_group.vpc_id
    || ': every rule in it applies to every instance ("moat and castle")',
    CAST(JSON_OBJECT(
        'vpc_id', per_group.vpc_id, 'instance_enis', vpc_instance_enis.enis,
        'enis', per_group.enis
    ) AS VARCHAR)
FROM per_group
INNER JOIN vpc_instance_enis ON per_group.vpc_id = vpc_instance_enis.vpc_id
WHERE vpc_instance_enis.enis >= 3 AND per_group.instance_enis = vpc_instance_enis.enis
UNION ALL
SELECT
    'sg_per_instance',
    'low',
    vpc_id,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    'One security group per instance',
    CAST(single_groups AS VARCHAR) || ' of the ' || CAST(groups_in_use AS VARCHAR)
    || ' security groups in use in ' || vpc_id
    || ' each guard a single instance: rules are duplicated per instance instead of per role',
    CAST(JSON_OBJECT(
        'groups_in_use', groups_in_use, 'single_instance_groups', single_groups
    ) AS VARCHAR)
FROM single_instance
WHERE single_groups >= 3 AND single_groups * 5 >= groups_in_use * 4
