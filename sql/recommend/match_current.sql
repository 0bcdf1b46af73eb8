-- name: match_current
-- returns: one row per attributed observed tuple x current rule that allows it at the tuple's
--     time in some piece (rec_piece_match): the matches narrowing and evidence read
--     (rule_stats, rule_peers); unattributed tuples never shape a proposal
SELECT DISTINCT
    obs_id,
    rule_id
FROM rec_piece_match
WHERE NOT unattributed
