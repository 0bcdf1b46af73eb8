-- name: usage_history
-- returns: one row per rule x earlier analysed day of the history: the day's initiating flows
-- params: $history_start, $day
SELECT rule_id, date, flows
FROM prior_rule_usage
WHERE date >= $history_start AND date < $day
ORDER BY rule_id, date
