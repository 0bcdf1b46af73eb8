-- name: findings
-- returns: the posture findings of the window's days, most severe first
-- params: $start_date, $end_date
SELECT DISTINCT finding_id, kind, severity, resource_id, group_id, rule_id, title, detail, evidence
FROM findings
WHERE date BETWEEN $start_date AND $end_date
ORDER BY
    CASE LOWER(severity)
        WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4
    END,
    kind, resource_id, finding_id
