-- name: 89_findings
-- returns: the results table findings: every finding of the day with a stable finding_id (md5 of
--     kind, resource and rule)
WITH all_findings AS (
    SELECT * FROM findings_rules
    UNION ALL
    SELECT * FROM findings_groups
    UNION ALL
    SELECT * FROM findings_coverage
    UNION ALL
    SELECT * FROM findings_traffic
    UNION ALL
    SELECT * FROM findings_shadowed
)
SELECT
    MD5(kind || '|' || COALESCE(resource_id, '') || '|' || COALESCE(rule_id, '')) AS finding_id,
    kind, severity, resource_id, group_id, rule_id, title, detail, evidence
FROM all_findings
