-- name: top_rejected_sources
-- returns: the $limit source addresses with most rejected records, one row per source × cause, with records
-- params: $start_date, $end_date, $limit
WITH top_sources AS (
    SELECT srcaddr, COUNT(*) AS total
    FROM rejected
    WHERE date BETWEEN $start_date AND $end_date AND srcaddr IS NOT NULL
    GROUP BY srcaddr
    ORDER BY total DESC, srcaddr
    LIMIT $limit
)
SELECT r.srcaddr AS label, COALESCE(r.cause, 'unknown') AS cause, COUNT(*) AS records, MIN(t.total) AS total
FROM rejected AS r
JOIN top_sources AS t ON r.srcaddr = t.srcaddr
WHERE r.date BETWEEN $start_date AND $end_date
GROUP BY r.srcaddr, COALESCE(r.cause, 'unknown')
ORDER BY total DESC, label, cause
