-- name: replay_cut
-- returns: per cut observed tuple x piece, the groups that lose it: at risk (rec_at_risk), the
--     group allows it now, had an allowing rule changed, keeps none that certainly allows it
--     (rec_replay_groups) and no replacement rule of that group certainly allows it
--     (rec_rescued_at_time), while no group certainly held in that piece (rec_piece_groups) is
--     rescued either
WITH rescued AS (
    SELECT DISTINCT obs_id, piece_id, group_id FROM rec_rescued_at_time WHERE certain
), losing AS (
    SELECT
        replay_groups.obs_id,
        replay_groups.piece_id,
        replay_groups.group_id
    FROM rec_replay_groups AS replay_groups
    INNER JOIN rec_at_risk
        ON
            replay_groups.obs_id = rec_at_risk.obs_id
            AND replay_groups.piece_id = rec_at_risk.piece_id
    LEFT JOIN rescued
        ON
            replay_groups.obs_id = rescued.obs_id
            AND replay_groups.piece_id = rescued.piece_id
            AND replay_groups.group_id = rescued.group_id
    WHERE replay_groups.changed AND NOT replay_groups.kept AND rescued.obs_id IS NULL
), certainly_rescued AS (
    SELECT DISTINCT
        rescued.obs_id,
        rescued.piece_id
    FROM rescued
    INNER JOIN rec_piece_groups AS piece_groups
        ON rescued.piece_id = piece_groups.piece_id AND rescued.group_id = piece_groups.group_id
    WHERE piece_groups.certain
)
SELECT
    losing.obs_id,
    losing.piece_id,
    losing.group_id
FROM losing
LEFT JOIN certainly_rescued
    ON losing.obs_id = certainly_rescued.obs_id AND losing.piece_id = certainly_rescued.piece_id
WHERE certainly_rescued.obs_id IS NULL
