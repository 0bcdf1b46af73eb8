-- name: replay_blame
-- returns: per changed rule (rec_changed) that allowed a cut tuple in a group that loses it
--     (rec_cut): the flows and connections it would cut and the first such tuple in replay order
WITH blamed AS (
    SELECT DISTINCT
        rec_piece_match.rule_id,
        rec_piece_match.obs_id
    FROM rec_piece_match
    INNER JOIN rec_cut
        ON
            rec_piece_match.obs_id = rec_cut.obs_id
            AND rec_piece_match.piece_id = rec_cut.piece_id
            AND rec_piece_match.group_id = rec_cut.group_id
    INNER JOIN rec_changed ON rec_piece_match.rule_id = rec_changed.rule_id
)
SELECT
    blamed.rule_id,
    SUM(rec_obs.flows) AS flows,
    SUM(rec_obs.connections) AS connections,
    MIN(rec_obs.obs_id) AS example_obs_id
FROM blamed
INNER JOIN rec_obs ON blamed.obs_id = rec_obs.obs_id
GROUP BY blamed.rule_id
