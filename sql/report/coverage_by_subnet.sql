-- name: coverage_by_subnet
-- returns: one row per subnet × coverage class (ALL, ACCEPT-only, REJECT-only, none): ENI count
-- params:
WITH per_eni AS (
    SELECT
        enis.eni_id,
        COALESCE(enis.subnet_id, '(no subnet)') AS subnet_id,
        COUNT(CASE WHEN coverage.traffic_type = 'ALL' THEN 1 END) AS all_logs,
        COUNT(CASE WHEN coverage.traffic_type = 'ACCEPT' THEN 1 END) AS accept_logs,
        COUNT(CASE WHEN coverage.traffic_type = 'REJECT' THEN 1 END) AS reject_logs
    FROM enis
    LEFT JOIN eni_coverage AS coverage ON enis.eni_id = coverage.eni_id
    GROUP BY enis.eni_id, COALESCE(enis.subnet_id, '(no subnet)')
)
SELECT
    subnet_id,
    CASE
        WHEN all_logs > 0 OR (accept_logs > 0 AND reject_logs > 0) THEN 'ALL'
        WHEN accept_logs > 0 THEN 'ACCEPT-only'
        WHEN reject_logs > 0 THEN 'REJECT-only'
        ELSE 'none'
    END AS coverage,
    COUNT(*) AS enis
FROM per_eni
GROUP BY 1, 2
ORDER BY 1, 2
