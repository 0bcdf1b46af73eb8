-- name: replay_groups
-- returns: per observed tuple x piece x group whose current rules allow it (rec_piece_match):
--     kept = some rule of that group that certainly allows it is not changed (rec_changed),
--     changed = some allowing rule is
SELECT
    rec_piece_match.obs_id,
    rec_piece_match.piece_id,
    rec_piece_match.group_id,
    BOOL_OR(rec_changed.rule_id IS NULL AND rec_piece_match.certain) AS kept,
    BOOL_OR(rec_changed.rule_id IS NOT NULL) AS changed
FROM rec_piece_match
LEFT JOIN rec_changed ON rec_piece_match.rule_id = rec_changed.rule_id
GROUP BY rec_piece_match.obs_id, rec_piece_match.piece_id, rec_piece_match.group_id
