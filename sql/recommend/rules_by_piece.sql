-- name: rules_by_piece
-- returns: every rule of rec_spec in each piece of time whose groups (rec_piece_groups: possibly
--     held, certainly or not) include its group: the match_rules of the rule-match join
--     (sql/shared/keys_allowed.sql), keyed eni_id = the piece
-- The replay runs it on the replacement rules too, with rec_spec standing for rec_new_spec.
SELECT
    CAST(rec_piece_groups.piece_id AS VARCHAR) AS eni_id,
    rec_spec.*
FROM rec_piece_groups
INNER JOIN rec_spec ON rec_piece_groups.group_id = rec_spec.group_id
