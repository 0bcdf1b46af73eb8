-- name: allowed_at_time
-- returns: one row per observed tuple x piece x group x rule that allows it (rec_allowed: the
--     rule-match join over observed_pieces, rules_by_piece and the rules' peer ranges) at a time
--     they share, and whether certainly: an SG-reference range (rec_member_spans: the referenced
--     group's member addresses, each over the time it belonged) counts only when the member, the
--     piece and the tuple's time overlap, and is certain only through a member known to belong
--     (an unplaced ENI's address is only possibly a member)
-- The replay runs it on the replacement rules too (rec_rescued, rec_new_member_spans).
WITH through_members AS (
    SELECT
        allowed.obs_id,
        allowed.piece_id,
        allowed.group_id,
        allowed.rule_id,
        allowed.unattributed,
        BOOL_OR(member_spans.certain) AS certain
    FROM rec_allowed AS allowed
    INNER JOIN rec_member_spans AS member_spans
        ON
            allowed.rule_id = member_spans.rule_id
            AND allowed.family = member_spans.family
            AND allowed.peer_key BETWEEN member_spans.lo AND member_spans.hi
    WHERE
        allowed.matched_via = 'sg'
        AND GREATEST(allowed.time_from, member_spans.valid_from) <= allowed.time_last
        AND GREATEST(allowed.time_from, member_spans.valid_from)
        < LEAST(allowed.time_to, member_spans.valid_to)
    GROUP BY
        allowed.obs_id, allowed.piece_id, allowed.group_id, allowed.rule_id, allowed.unattributed
), through_addresses AS (
    SELECT DISTINCT
        allowed.obs_id,
        allowed.piece_id,
        allowed.group_id,
        allowed.rule_id,
        allowed.unattributed,
        TRUE AS certain
    FROM rec_allowed AS allowed
    WHERE allowed.matched_via <> 'sg'
)
SELECT * FROM through_members
UNION ALL
SELECT * FROM through_addresses
