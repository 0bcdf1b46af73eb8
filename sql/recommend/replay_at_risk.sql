-- name: replay_at_risk
-- returns: the observed tuple x piece keys (rec_keys) the changes may cut: some group that allows
--     the tuple now had an allowing rule changed and keeps none that certainly allows it
--     (rec_replay_groups), and no group certainly held keeps one; the replacement rules must
--     still allow these
-- params: $scope_rule
-- $scope_rule (or NULL for all): only the tuples that rule allows now, in any piece.
WITH per_piece AS (
    SELECT
        replay_groups.obs_id,
        replay_groups.piece_id,
        BOOL_OR(replay_groups.changed AND NOT replay_groups.kept) AS some_group_loses,
        BOOL_OR(replay_groups.kept AND piece_groups.certain) AS certain_group_keeps
    FROM rec_replay_groups AS replay_groups
    INNER JOIN rec_piece_groups AS piece_groups
        ON
            replay_groups.piece_id = piece_groups.piece_id
            AND replay_groups.group_id = piece_groups.group_id
    GROUP BY replay_groups.obs_id, replay_groups.piece_id
), in_scope AS (
    SELECT DISTINCT rec_piece_match.obs_id
    FROM rec_piece_match
    WHERE rec_piece_match.rule_id = $scope_rule
)
SELECT rec_keys.*
FROM rec_keys
INNER JOIN per_piece
    ON rec_keys.obs_id = per_piece.obs_id AND rec_keys.piece_id = per_piece.piece_id
WHERE
    per_piece.some_group_loses AND NOT per_piece.certain_group_keeps
    AND ($scope_rule IS NULL OR rec_keys.obs_id IN (SELECT in_scope.obs_id FROM in_scope))
