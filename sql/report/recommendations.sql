-- name: recommendations
-- returns: the recommendations of the window's latest analysed day, one row per rule
-- params: $start_date, $end_date
SELECT rule_id, group_id, action, proposed, evidence, risk
FROM recommendations
WHERE date = (SELECT MAX(date) FROM recommendations WHERE date BETWEEN $start_date AND $end_date)
ORDER BY group_id, rule_id
