-- name: top_rejected_sources
-- returns: the $limit source addresses with most rejected records, one row per source × cause,
--     with records
-- params: $start_date, $end_date, $limit
WITH top_sources AS (
    SELECT srcaddr, COUNT(*) AS total
    FROM rejected
    WHERE date BETWEEN $start_date AND $end_date AND srcaddr IS NOT NULL
    GROUP BY srcaddr
    ORDER BY total DESC, srcaddr
    LIMIT $limit
)
SELECT
    rejected.srcaddr AS label,
    COALESCE(rejected.cause, 'unknown') AS cause,
    COUNT(*) AS records,
    MIN(top_sources.total) AS total
FROM rejected
INNER JOIN top_sources ON rejected.srcaddr = top_sources.srcaddr
WHERE rejected.date BETWEEN $start_date AND $end_date
GROUP BY rejected.srcaddr, COALESCE(rejected.cause, 'unknown')
ORDER BY total DESC, label, cause
