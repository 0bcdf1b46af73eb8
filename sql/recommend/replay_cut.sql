-- name: replay_cut
-- returns: the observed tuples the proposed rules cut: at risk (rec_at_risk) and allowed by no
--     replacement rule (rec_new_spec, rec_new_ranges) of any SG on the ENI (rec_rescued: the
--     rule-match join of sql/shared/keys_allowed.sql over them)
WITH rescued AS (
    SELECT DISTINCT obs_id FROM rec_rescued
)
SELECT
    rec_at_risk.obs_id,
    rec_at_risk.flows,
    rec_at_risk.connections
FROM rec_at_risk
LEFT JOIN rescued ON rec_at_risk.obs_id = rescued.obs_id
WHERE rescued.obs_id IS NULL
