-- name: replay_totals
-- returns: one row: flows and connections the current rules allow (checked) and flows no current rule allows
SELECT SUM(CASE WHEN m.obs_id IS NOT NULL THEN o.flows ELSE 0 END) AS flows_checked,
       SUM(CASE WHEN m.obs_id IS NOT NULL THEN o.connections ELSE 0 END) AS connections_checked,
       SUM(CASE WHEN m.obs_id IS NULL THEN o.flows ELSE 0 END) AS flows_not_allowed_now
FROM rec_obs AS o
LEFT JOIN (SELECT DISTINCT obs_id FROM rec_match) AS m ON m.obs_id = o.obs_id
