-- name: allowed_at_time
-- returns: one row per observed tuple x piece x group x rule that allows it (rec_allowed: the
--     rule-match join over observed_pieces, rules_by_piece and the rules' peer ranges) at a time
--     they share: an SG-reference range (rec_member_spans: the referenced group's member
--     addresses, each over the time it belonged to the group) counts only when the member, the
--     piece and the tuple's time overlap
-- The replay runs it on the replacement rules too (rec_rescued, rec_new_member_spans).
SELECT DISTINCT
    allowed.obs_id,
    allowed.piece_id,
    allowed.group_id,
    allowed.rule_id,
    allowed.unattributed
FROM rec_allowed AS allowed
WHERE
    allowed.matched_via <> 'sg'
    OR EXISTS (
        SELECT 1
        FROM rec_member_spans AS member_spans
        WHERE
            member_spans.rule_id = allowed.rule_id
            AND member_spans.family = allowed.family
            AND allowed.peer_key BETWEEN member_spans.lo AND member_spans.hi
            AND GREATEST(allowed.time_from, member_spans.valid_from) <= allowed.time_last
            AND GREATEST(allowed.time_from, member_spans.valid_from)
            < LEAST(allowed.time_to, member_spans.valid_to)
    )
