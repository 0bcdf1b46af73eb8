-- name: 48_nacl_verdicts
-- returns: per rejected key on a subnet with a known NACL, the first NACL entry (lowest rule number) that matches it: rule_number, rule_action allow|deny, cidr (NACLs are ordered and stateless, docs/flow-logs.md#network-acls; ICMP entries match on protocol, the type/code being unobservable)
WITH nk AS (
    SELECT DISTINCT ei.nacl_id, rk.direction, rk.protocol, rk.family, rk.remote_key, rk.port
    FROM reject_keys rk
    JOIN eni_info ei ON ei.eni_id = rk.eni_id
    WHERE ei.nacl_id IS NOT NULL
), hits AS (
    SELECT nk.*, e.rule_number, e.rule_action, e.cidr,
           ROW_NUMBER() OVER (
               PARTITION BY nk.nacl_id, nk.direction, nk.protocol, nk.family, nk.remote_key, nk.port
               ORDER BY e.rule_number
           ) AS rn
    FROM nk
    JOIN nacl_entries e
        ON e.nacl_id = nk.nacl_id AND e.direction = nk.direction AND e.family = nk.family
       AND nk.remote_key BETWEEN e.lo AND e.hi
       AND (e.protocol = -1
            OR (e.protocol = nk.protocol
                AND (nk.protocol NOT IN (6, 17) OR e.from_port IS NULL OR nk.port BETWEEN e.from_port AND e.to_port)))
)
SELECT nacl_id, direction, protocol, family, remote_key, port, rule_number, rule_action, cidr
FROM hits
WHERE rn = 1
