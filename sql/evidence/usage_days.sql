-- name: usage_days
-- returns: one row per rule x analysed day of the history behind a plan: the day's flows
-- params: $history_start, $last_day
SELECT rule_id, group_id, date, flows
FROM rule_usage
WHERE date BETWEEN $history_start AND $last_day
ORDER BY rule_id, date
