-- name: recommendations
-- returns: the recommendations of the window's latest analysed day, one row per rule (every column:
--   files written before kind/current/risk_reason/may_widen/notes/flows_checked/flows_cut existed lack them)
-- params: $start_date, $end_date
SELECT *
FROM recommendations
WHERE date = (SELECT MAX(date) FROM recommendations WHERE date BETWEEN $start_date AND $end_date)
ORDER BY group_id, rule_id
