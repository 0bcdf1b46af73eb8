-- name: ingest_accounting
-- returns: one row per manifest status: objects, bytes, rows, quarantined; only objects whose key
--     names a window day ($day_pattern) or no day at all
-- params: $day_pattern
SELECT
    status,
    COUNT(*) AS objects,
    CAST(COALESCE(SUM(size), 0) AS BIGINT) AS size,
    CAST(COALESCE(SUM("rows"), 0) AS BIGINT) AS "rows",
    CAST(COALESCE(SUM(quarantined), 0) AS BIGINT) AS quarantined,
    MIN(error) AS example_error
FROM ingest_manifest
WHERE
    REGEXP_MATCHES(source_key, $day_pattern)
    OR NOT REGEXP_MATCHES(
        source_key, '(^|/)(\d{4}/\d{2}/\d{2}|year=\d{4}/month=\d{2}/day=\d{2})/'
    )
GROUP BY status
ORDER BY status
