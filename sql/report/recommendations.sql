-- name: recommendations
-- returns: the recommendations of the window's latest analysed day, one row per rule, every
--   column (files written before kind/current/risk_reason/may_widen/notes/flows_checked/flows_cut
--   existed lack those; the report reads them as absent)
-- params: $start_date, $end_date
WITH latest AS (
    SELECT MAX(date) AS date
    FROM recommendations
    WHERE date BETWEEN $start_date AND $end_date
)
SELECT recommendations.*
FROM recommendations
INNER JOIN latest ON recommendations.date = latest.date
ORDER BY recommendations.group_id, recommendations.rule_id
