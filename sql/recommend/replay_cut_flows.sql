-- name: replay_cut_flows
-- returns: one row: the flows of the observed tuples cut in some piece (rec_cut)
SELECT COALESCE(SUM(rec_obs.flows), 0) AS flows_cut
FROM rec_obs
WHERE rec_obs.obs_id IN (SELECT rec_cut.obs_id FROM rec_cut)
