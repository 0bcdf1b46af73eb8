-- name: replay_groups
-- returns: per observed tuple x piece x group whose current rules allow it (rec_piece_match):
--     kept = some allowing rule of that group is not changed (rec_changed)
SELECT
    rec_piece_match.obs_id,
    rec_piece_match.piece_id,
    rec_piece_match.group_id,
    BOOL_OR(rec_changed.rule_id IS NULL) AS kept
FROM rec_piece_match
LEFT JOIN rec_changed ON rec_piece_match.rule_id = rec_changed.rule_id
GROUP BY rec_piece_match.obs_id, rec_piece_match.piece_id, rec_piece_match.group_id
