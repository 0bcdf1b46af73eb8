-- name: 81_findings_groups
-- returns: posture findings from group membership: default_sg_in_use, moat_and_castle (one SG on every instance ENI of a VPC with 3 or more; requester-managed service ENIs such as load balancers and RDS have no instance_id and do not count), sg_per_instance (most SGs of a VPC each guard a single instance)
WITH membership AS (
    SELECT g.group_id, e.vpc_id, g.eni_id, e.instance_id, COALESCE(e.instance_id, g.eni_id) AS workload
    FROM eni_groups g
    JOIN eni_info e ON e.eni_id = g.eni_id
), vpc_instance_enis AS (
    SELECT vpc_id, COUNT(DISTINCT eni_id) AS enis FROM eni_info WHERE instance_id IS NOT NULL GROUP BY vpc_id
), per_group AS (
    SELECT group_id, vpc_id, COUNT(DISTINCT eni_id) AS enis, COUNT(DISTINCT workload) AS workloads, MIN(eni_id) AS sample_eni,
           COUNT(DISTINCT CASE WHEN instance_id IS NOT NULL THEN eni_id END) AS instance_enis
    FROM membership
    GROUP BY group_id, vpc_id
), single AS (
    SELECT vpc_id, COUNT(*) AS groups_in_use, SUM(CASE WHEN workloads = 1 THEN 1 ELSE 0 END) AS single_groups
    FROM per_group
    GROUP BY vpc_id
)
SELECT
    'default_sg_in_use' AS kind, 'medium' AS severity, p.group_id AS resource_id, p.group_id, CAST(NULL AS VARCHAR) AS rule_id,
    'Default security group in use' AS title,
    'the default security group ' || p.group_id || ' of ' || p.vpc_id || ' is attached to ' || CAST(p.enis AS VARCHAR)
        || ' ENIs (e.g. ' || p.sample_eni || '); its self-reference lets all members talk on every port' AS detail,
    CAST(json_object('vpc_id', p.vpc_id, 'enis', p.enis, 'sample_eni', p.sample_eni) AS VARCHAR) AS evidence
FROM per_group p
JOIN security_groups s ON s.group_id = p.group_id
WHERE s.is_default
UNION ALL
SELECT
    'moat_and_castle', 'medium', p.group_id, p.group_id, CAST(NULL AS VARCHAR),
    'One security group on every instance',
    p.group_id || ' is attached to all ' || CAST(v.enis AS VARCHAR) || ' instance ENIs of ' || p.vpc_id
        || ': every rule in it applies to every instance ("moat and castle")',
    CAST(json_object('vpc_id', p.vpc_id, 'instance_enis', v.enis, 'enis', p.enis) AS VARCHAR)
FROM per_group p
JOIN vpc_instance_enis v ON v.vpc_id = p.vpc_id
WHERE v.enis >= 3 AND p.instance_enis = v.enis
UNION ALL
SELECT
    'sg_per_instance', 'low', s.vpc_id, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
    'One security group per instance',
    CAST(s.single_groups AS VARCHAR) || ' of the ' || CAST(s.groups_in_use AS VARCHAR) || ' security groups in use in ' || s.vpc_id
        || ' each guard a single instance: rules are duplicated per instance instead of per role',
    CAST(json_object('groups_in_use', s.groups_in_use, 'single_instance_groups', s.single_groups) AS VARCHAR)
FROM single s
WHERE s.single_groups >= 3 AND s.single_groups * 5 >= s.groups_in_use * 4
