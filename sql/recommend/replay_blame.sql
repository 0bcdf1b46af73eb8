-- name: replay_blame
-- returns: per changed rule that allowed a cut tuple (rec_cut): the flows and connections it
--     would cut and the first such tuple in replay order
SELECT
    rec_match.rule_id,
    SUM(rec_cut.flows) AS flows,
    SUM(rec_cut.connections) AS connections,
    MIN(rec_cut.obs_id) AS example_obs_id
FROM rec_cut
INNER JOIN rec_match ON rec_cut.obs_id = rec_match.obs_id
GROUP BY rec_match.rule_id
