-- name: 32_rule_versions
-- returns: every content of every SG rule the day's inventory holds (the sg_rules rows, each with
--     its validity and a number naming it, version_no), latest_content (1 for the rule's newest
--     content, the one rule_usage reports) and, on that content, what changed inside the day:
--     change created|changed|deleted, change_at (the first snapshot that showed it, or showed it
--     gone), exists_from/exists_to (the part of the day it possibly existed) and the same times
--     in words (*_text, UTC)
-- params: $window_start, $window_end, $far_past, $far_future
-- A content possibly began inside the day when a snapshot before its first sighting lacked it
-- (valid_from after the far past) and that sighting is after the day's start; it possibly ended
-- inside the day when a snapshot showed it gone (valid_to before the far future) and its last
-- sighting is before the day's end. A rule whose content ended and began counts as deleted.
WITH ranked AS (
    SELECT
        sg_rules.*,
        RANK() OVER (PARTITION BY rule_id, group_id ORDER BY valid_from DESC) AS newness,
        ROW_NUMBER() OVER (ORDER BY rule_id, group_id, valid_from, seen_from) AS version_no,
        MIN(valid_from) OVER (PARTITION BY rule_id, group_id) AS first_valid_from
    FROM sg_rules
), judged AS (
    SELECT
        ranked.*,
        CASE WHEN newness = 1 THEN 1 ELSE 0 END AS latest_content,
        CASE
            WHEN newness <> 1 THEN NULL
            WHEN valid_to < $far_future AND seen_to < $window_end THEN 'deleted'
            WHEN valid_from > $far_past AND seen_from > $window_start
                THEN CASE WHEN first_valid_from < valid_from THEN 'changed' ELSE 'created' END
        END AS change,
        CASE WHEN valid_from > $window_start THEN valid_from ELSE $window_start END AS exists_from,
        CASE WHEN valid_to < $window_end THEN valid_to ELSE $window_end END AS exists_to
    FROM ranked
), timed AS (
    SELECT
        judged.*,
        CASE change WHEN 'deleted' THEN valid_to WHEN 'created' THEN seen_from
            WHEN 'changed' THEN seen_from END AS change_at
    FROM judged
)
SELECT
    timed.*,
    CAST(CAST(change_at AS DATE) AS VARCHAR) AS change_date,
    STRFTIME(change_at, '%Y-%m-%d %H:%M') || ' UTC' AS change_at_text,
    STRFTIME(valid_from, '%Y-%m-%d %H:%M') || ' UTC' AS valid_from_text,
    STRFTIME(seen_to, '%Y-%m-%d %H:%M') || ' UTC' AS seen_to_text,
    STRFTIME(exists_from, '%Y-%m-%d %H:%M') || ' UTC' AS exists_from_text,
    STRFTIME(exists_to, '%Y-%m-%d %H:%M') || ' UTC' AS exists_to_text
FROM timed
