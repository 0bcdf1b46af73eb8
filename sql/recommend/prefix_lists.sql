-- name: prefix_lists
-- returns: one row per prefix-list entry of the list's current version, with the list's name, family, size and owner kind
SELECT e.prefix_list_id, e.cidr, l.prefix_list_name, l.address_family, l.max_entries, l.aws_managed
FROM prefix_list_entries AS e
LEFT JOIN prefix_lists AS l ON l.prefix_list_id = e.prefix_list_id
WHERE l.version IS NULL OR e.version IS NULL OR e.version = l.version
ORDER BY e.prefix_list_id, e.cidr
