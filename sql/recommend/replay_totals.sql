-- name: replay_totals
-- returns: one row: of the attributed tuples, flows and connections the current rules allow in
--     some piece of their time (checked) and flows no current rule allows; of the unattributed
--     ones, all flows and those some group of their VPC allows now (protected)
WITH matched AS (
    SELECT DISTINCT obs_id FROM rec_piece_match
), judged AS (
    SELECT
        rec_obs.flows,
        rec_obs.connections,
        rec_obs.unattributed,
        matched.obs_id IS NOT NULL AS allowed_now
    FROM rec_obs
    LEFT JOIN matched ON rec_obs.obs_id = matched.obs_id
)
SELECT
    SUM(CASE WHEN NOT unattributed AND allowed_now THEN flows ELSE 0 END) AS flows_checked,
    SUM(CASE WHEN NOT unattributed AND allowed_now THEN connections ELSE 0 END)
    AS connections_checked,
    SUM(CASE WHEN NOT unattributed AND NOT allowed_now THEN flows ELSE 0 END)
    AS flows_not_allowed_now,
    SUM(CASE WHEN unattributed THEN flows ELSE 0 END) AS flows_unattributed,
    SUM(CASE WHEN unattributed AND allowed_now THEN flows ELSE 0 END)
    AS flows_unattributed_protected
FROM judged
