-- name: quarantine_reasons
-- returns: one row per quarantine reason in the window: lines, source objects
-- params: $start_date, $end_date
SELECT reason, COUNT(*) AS lines, COUNT(DISTINCT source_key) AS objects
FROM quarantine
WHERE date BETWEEN $start_date AND $end_date
GROUP BY reason
ORDER BY lines DESC, reason
