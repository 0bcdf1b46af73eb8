-- name: top_rejected_ports
-- returns: the $limit (protocol, destination port) pairs with most rejected records, one row per
--     pair × cause
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
    rejected.protocol,
    rejected.dstport,
    COALESCE(rejected.cause, 'unknown') AS cause,
    COUNT(*) AS records,
    MIN(top_ports.total) AS total
FROM rejected
INNER JOIN top_ports
    ON
        rejected.protocol IS NOT DISTINCT FROM top_ports.protocol
        AND rejected.dstport IS NOT DISTINCT FROM top_ports.dstport
WHERE rejected.date BETWEEN $start_date AND $end_date
GROUP BY rejected.protocol, rejected.dstport, COALESCE(rejected.cause, 'unknown')
ORDER BY total DESC, rejected.protocol, rejected.dstport, cause
