-- name: reject_causes
-- returns: one row per reject cause: records, distinct sources, and one example cause_detail
-- params: $start_date, $end_date
SELECT
    COALESCE(cause, 'unknown') AS cause,
    COUNT(*) AS records,
    COUNT(DISTINCT srcaddr) AS sources,
    MIN(cause_detail) AS example_detail
FROM rejected
WHERE date BETWEEN $start_date AND $end_date
GROUP BY COALESCE(cause, 'unknown')
ORDER BY records DESC, cause
