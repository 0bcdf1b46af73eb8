-- name: recommendations
-- returns: the recommendations of the window's latest analysed day, one row per rule
-- params: $start_date, $end_date
WITH latest AS (
    SELECT MAX(date) AS date
    FROM recommendations
    WHERE date BETWEEN $start_date AND $end_date
)
SELECT
    recommendations.rule_id,
    recommendations.group_id,
    recommendations.action,
    recommendations.proposed,
    recommendations.evidence,
    recommendations.risk
FROM recommendations
INNER JOIN latest ON recommendations.date = latest.date
ORDER BY recommendations.group_id, recommendations.rule_id
