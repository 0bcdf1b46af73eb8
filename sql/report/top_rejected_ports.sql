-- name: top_rejected_ports
-- returns: the $limit (protocol, destination port) pairs with most rejected records, one row per pair × cause
-- params: $start_date, $end_date, $limit
WITH top_ports AS (
    SELECT protocol, dstport, COUNT(*) AS total
    FROM rejected
    WHERE date BETWEEN $start_date AND $end_date
    GROUP BY protocol, dstport
    ORDER BY total DESC, protocol, dstport
    LIMIT $limit
)
SELECT
    r.protocol, r.dstport, COALESCE(r.cause, 'unknown') AS cause, COUNT(*) AS records, MIN(t.total) AS total
FROM rejected AS r
JOIN top_ports AS t
  ON r.protocol IS NOT DISTINCT FROM t.protocol AND r.dstport IS NOT DISTINCT FROM t.dstport
WHERE r.date BETWEEN $start_date AND $end_date
GROUP BY r.protocol, r.dstport, COALESCE(r.cause, 'unknown')
ORDER BY total DESC, r.protocol, r.dstport, cause
