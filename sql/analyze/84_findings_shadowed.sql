-- name: 84_findings_shadowed
-- returns: a 'shadowed' finding per rule whose allowed set, by configuration alone, lies inside
--     the union of other rules on every ENI it applies to (rule_shadows, built in Python)
SELECT
    'shadowed' AS kind,
    'low' AS severity,
    shadows.group_id AS resource_id,
    shadows.group_id,
    shadows.rule_id,
    'Rule shadowed by other rules' AS title,
    shadows.detail,
    CAST(JSON_OBJECT(
        'shadowed_by', shadows.shadowed_by, 'enis', shadows.enis, 'dynamic', shadows.dynamic,
        'direction', shadows.direction
    ) AS VARCHAR) AS evidence
FROM rule_shadows AS shadows
