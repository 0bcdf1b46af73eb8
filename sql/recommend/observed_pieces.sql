-- name: observed_pieces
-- returns: one row per observed tuple (rec_obs) x piece of its holder's time (rec_pieces) that
--     the tuple's time overlaps: the match_keys of the rule-match join (sql/shared/
--     keys_allowed.sql), keyed eni_id = the piece, with the part of time both share
--     (time_from .. time_last closed, before time_to) for SG-reference members of that time
-- A tuple of unknown time (no first/last seen) meets every piece, as in history.overlap().
WITH timed AS (
    SELECT
        rec_obs.*,
        rec_pieces.piece_id,
        rec_pieces.piece_to,
        GREATEST(
            COALESCE(rec_obs.first_seen, TIMESTAMPTZ '1970-01-01 00:00:00+00'),
            rec_pieces.piece_from
        ) AS time_from,
        COALESCE(rec_obs.last_seen, TIMESTAMPTZ '9999-12-31 00:00:00+00') AS time_last
    FROM rec_obs
    INNER JOIN rec_pieces ON rec_obs.holder = rec_pieces.holder
)
SELECT
    obs_id,
    piece_id,
    CAST(piece_id AS VARCHAR) AS eni_id,
    rule_direction,
    protocol,
    family,
    peer_key,
    port,
    flows,
    connections,
    unattributed,
    time_from,
    time_last,
    piece_to AS time_to
FROM timed
WHERE time_from <= time_last AND time_from < piece_to
