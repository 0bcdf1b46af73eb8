-- name: replay_totals
-- returns: one row: flows and connections the current rules allow (checked) and flows no current
--     rule allows
WITH matched AS (
    SELECT DISTINCT obs_id FROM rec_match
)
SELECT
    SUM(CASE WHEN matched.obs_id IS NOT NULL THEN rec_obs.flows ELSE 0 END) AS flows_checked,
    SUM(CASE WHEN matched.obs_id IS NOT NULL THEN rec_obs.connections ELSE 0 END)
    AS connections_checked,
    SUM(CASE WHEN matched.obs_id IS NULL THEN rec_obs.flows ELSE 0 END) AS flows_not_allowed_now
FROM rec_obs
LEFT JOIN matched ON rec_obs.obs_id = matched.obs_id
