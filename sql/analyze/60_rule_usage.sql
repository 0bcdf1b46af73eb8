-- name: 60_rule_usage
-- returns: the results table rule_usage: one row per SG rule (in its latest content of the day)
--     with status used|unused|unobservable|no_coverage|no_members, the counts of the accepted
--     initiating flows that content allowed, when it existed and changed, and status_reason in
--     words
-- params: $day, $lookback_start, $window_start, $window_end
-- Order of judgement: used today; no_coverage when a flow the inventory cannot attribute may have
-- used it; no_members; no_coverage when its peer is a group of another account that is not
-- inventoried; unobservable (peer never logged, DHCP, ICMP type/code); no_coverage when
-- its content began or ended inside the day (created, changed, deleted: not judged unused over
-- part of a day); used on an earlier analysed day within the lookback (status used, flows 0,
-- last_used_date from history); no_coverage; unused. Members are every ENI possibly in the
-- group during the day.
WITH members AS (
    SELECT
        eni_groups.group_id,
        COUNT(DISTINCT eni_groups.eni_id) AS members,
        COUNT(DISTINCT CASE WHEN coverage.covered THEN eni_groups.eni_id END) AS covered_members,
        MIN(
            CASE
                WHEN coverage.covered IS NULL THEN eni_groups.eni_id || ' is not in the inventory'
                WHEN NOT coverage.covered THEN coverage.gap_reason
            END
        ) AS first_gap
    FROM eni_groups
    LEFT JOIN eni_log_coverage AS coverage ON eni_groups.eni_id = coverage.eni_id
    GROUP BY eni_groups.group_id
), usage AS (
    SELECT
        rule_id,
        group_id,
        SUM(flows) AS flows,
        SUM(connections) AS connections,
        SUM(CASE WHEN rules_matched = 1 THEN flows ELSE 0 END) AS sole_flows,
        SUM(CASE WHEN rules_matched = 1 THEN connections ELSE 0 END) AS sole_connections,
        SUM(packets) AS packets,
        SUM(bytes) AS bytes,
        COUNT(DISTINCT peer_addr) AS peers,
        COUNT(DISTINCT service_port) AS ports,
        COUNT(DISTINCT eni_id) AS enis,
        TO_TIMESTAMP(MIN(first_start)) AS first_seen,
        TO_TIMESTAMP(MAX(last_end)) AS last_seen
    FROM span_rule_matches
    WHERE latest_content = 1
    GROUP BY rule_id, group_id
), latest_rules AS (
    SELECT * FROM rule_versions WHERE latest_content = 1
), unattributed AS (
    SELECT
        rule_id, group_id,
        COUNT(DISTINCT unknown_eni) AS unknown_enis,
        MIN(CASE WHEN rank_in_rule = 1 THEN reason END) AS reason
    FROM unattributed_rules
    GROUP BY rule_id, group_id
), used_before AS (
    SELECT rule_id, group_id, MAX(date) AS last_date
    FROM prior_rule_usage
    WHERE date >= $lookback_start AND date < $day AND flows > 0
    GROUP BY rule_id, group_id
), never_logged_peers AS (
    SELECT latest_rules.rule_id, latest_rules.group_id, MIN(never_logged.what) AS what
    FROM latest_rules
    INNER JOIN never_logged
        ON
            latest_rules.peer_type IN ('cidr4', 'cidr6')
            AND latest_rules.peer_family = never_logged.family
            AND latest_rules.peer_lo >= never_logged.lo
            AND latest_rules.peer_hi <= never_logged.hi
            AND (never_logged.owner = '*' OR latest_rules.vpc_id = never_logged.owner)
    GROUP BY latest_rules.rule_id, latest_rules.group_id
), uninventoried_peers AS (
    -- A reference to a group of ANOTHER account (UserIdGroupPairs UserId, through peering or
    -- a shared VPC) that no inventoried account holds: its members' addresses are unknown, so no
    -- flow can be attributed to the rule and "unused" would be a guess. Inventory that account
    -- too (--accounts) and the reference resolves like any other. A peer of the rule's own
    -- account is judged as before, and so is a reference through a peering that is gone or a
    -- rule AWS lists as stale: no traffic can use it, so unused is proven, not guessed.
    SELECT latest_rules.rule_id, latest_rules.group_id, latest_rules.peer_owner_id AS account
    FROM latest_rules
    LEFT JOIN (SELECT DISTINCT group_id FROM security_groups) AS known
        ON latest_rules.peer = known.group_id
    LEFT JOIN (SELECT DISTINCT group_id FROM eni_groups) AS attached
        ON latest_rules.peer = attached.group_id
    WHERE
        latest_rules.peer_type = 'sg'
        AND latest_rules.peer_owner_id IS NOT NULL
        AND latest_rules.peer_owner_id
        <> COALESCE(latest_rules.group_owner_id, latest_rules.account_id, '')
        AND known.group_id IS NULL AND attached.group_id IS NULL
        AND COALESCE(latest_rules.peering_status, 'active')
        NOT IN ('deleted', 'deleting', 'rejected', 'failed', 'expired')
        AND NOT COALESCE(latest_rules.stale, FALSE)
), with_usage AS (
    SELECT
        latest_rules.rule_id, latest_rules.group_id, latest_rules.direction, latest_rules.vpc_id,
        latest_rules.ip_protocol, latest_rules.from_port, latest_rules.to_port,
        latest_rules.peer_type, latest_rules.peer,
        latest_rules.change, latest_rules.change_at, latest_rules.change_date,
        latest_rules.change_at_text, latest_rules.valid_from_text, latest_rules.seen_to_text,
        latest_rules.exists_from, latest_rules.exists_to,
        latest_rules.exists_from_text, latest_rules.exists_to_text,
        unattributed.reason AS unattributed_reason,
        COALESCE(unattributed.unknown_enis, 0) AS unknown_enis,
        COALESCE(usage.flows, 0) AS flows,
        COALESCE(usage.connections, 0) AS connections,
        COALESCE(usage.sole_flows, 0) AS sole_flows,
        COALESCE(usage.sole_connections, 0) AS sole_connections,
        COALESCE(usage.packets, 0) AS packets,
        COALESCE(usage.bytes, 0) AS bytes,
        COALESCE(usage.peers, 0) AS peers,
        COALESCE(usage.ports, 0) AS ports,
        COALESCE(usage.enis, 0) AS enis,
        usage.first_seen,
        usage.last_seen,
        COALESCE(members.members, 0) AS members,
        COALESCE(members.covered_members, 0) AS covered_members,
        members.first_gap,
        used_before.last_date,
        never_logged_peers.what AS never_logged,
        uninventoried_peers.account AS uninventoried_account,
        CASE
            WHEN
                latest_rules.ip_protocol IN (1, 58)
                AND latest_rules.from_port IS NOT NULL AND latest_rules.from_port >= 0
                THEN 'icmp_type'
            WHEN
                latest_rules.ip_protocol = 17
                AND latest_rules.from_port >= 67 AND latest_rules.to_port <= 68
                THEN 'dhcp'
        END AS unobservable_kind
    FROM latest_rules
    LEFT JOIN usage
        ON latest_rules.rule_id = usage.rule_id AND latest_rules.group_id = usage.group_id
    LEFT JOIN members ON latest_rules.group_id = members.group_id
    LEFT JOIN used_before
        ON
            latest_rules.rule_id = used_before.rule_id
            AND latest_rules.group_id = used_before.group_id
    LEFT JOIN never_logged_peers
        ON
            latest_rules.rule_id = never_logged_peers.rule_id
            AND latest_rules.group_id = never_logged_peers.group_id
    LEFT JOIN unattributed
        ON
            latest_rules.rule_id = unattributed.rule_id
            AND latest_rules.group_id = unattributed.group_id
    LEFT JOIN uninventoried_peers
        ON
            latest_rules.rule_id = uninventoried_peers.rule_id
            AND latest_rules.group_id = uninventoried_peers.group_id
), judged AS (
    SELECT
        with_usage.*,
        CASE
            WHEN unobservable_kind = 'icmp_type' THEN 'unobservable'
            WHEN flows > 0 THEN 'used'
            WHEN unattributed_reason IS NOT NULL THEN 'no_coverage'
            WHEN members = 0 THEN 'no_members'
            WHEN uninventoried_account IS NOT NULL THEN 'no_coverage'
            WHEN never_logged IS NOT NULL OR unobservable_kind IS NOT NULL THEN 'unobservable'
            WHEN change IS NOT NULL THEN 'no_coverage'
            WHEN last_date IS NOT NULL THEN 'used'
            WHEN covered_members < members THEN 'no_coverage'
            ELSE 'unused'
        END AS status
    FROM with_usage
)
SELECT
    rule_id, group_id, direction, status,
    CAST(flows AS BIGINT) AS flows,
    CAST(connections AS BIGINT) AS connections,
    CAST(sole_flows AS BIGINT) AS sole_flows,
    CAST(packets AS BIGINT) AS packets,
    CAST(bytes AS BIGINT) AS bytes,
    CAST(peers AS BIGINT) AS peers,
    CAST(ports AS BIGINT) AS ports,
    first_seen,
    last_seen,
    CAST($window_start AS TIMESTAMPTZ) AS window_start,
    CAST($window_end AS TIMESTAMPTZ) AS window_end,
    CASE
        WHEN unobservable_kind = 'icmp_type' THEN
            'ICMP type ' || CAST(from_port AS VARCHAR) || ' code ' || CAST(to_port AS VARCHAR)
            || ': flow logs record no ICMP type or code, so this rule can never be proven used ('
            || CAST(flows AS VARCHAR) || ' ICMP flows from its peers were seen)'
        WHEN flows > 0 THEN
            CAST(flows AS VARCHAR) || ' accepted initiating flows in '
            || CAST(connections AS VARCHAR) || ' connections from '
            || CAST(peers AS VARCHAR) || ' peers to ' || CAST(ports AS VARCHAR) || ' ports on '
            || CAST(enis AS VARCHAR) || ' ENIs on ' || CAST($day AS VARCHAR) || '; '
            || CASE
                WHEN sole_flows = 0
                    THEN 'every one of them is also allowed by another rule (redundant on this day)'
                ELSE CAST(sole_flows AS VARCHAR) || ' allowed by no other rule'
            END
        WHEN unattributed_reason IS NOT NULL
            THEN CASE
                WHEN unknown_enis > 1
                    THEN CAST(unknown_enis AS VARCHAR)
                    || ' network interfaces the inventory does not place may have used this rule;'
                    || ' e.g. '
                ELSE ''
            END || unattributed_reason
        WHEN members = 0 THEN group_id || ' is attached to no network interface'
        WHEN uninventoried_account IS NOT NULL
            THEN 'peer group ' || peer || ' in account ' || uninventoried_account
            || ' not inventoried: the flows of its members cannot be attributed to this rule;'
            || ' add the account to flowlens inventory --accounts'
        WHEN never_logged IS NOT NULL
            THEN 'its peer ' || peer || ' is ' || never_logged
            || ', whose traffic flow logs never record'
        WHEN unobservable_kind = 'dhcp' THEN 'DHCP (udp 67-68) is never recorded by flow logs'
        WHEN change = 'created'
            THEN 'created on ' || change_date || ' (absent from the snapshot of ' || valid_from_text
            || ', first seen in the one of ' || change_at_text || '): judged over '
            || exists_from_text || ' to ' || exists_to_text
            || ', the part of the day it may have existed, where no accepted initiating flow'
            || ' matched it; a rule younger than the day is not called unused'
        WHEN change = 'changed'
            THEN 'changed on ' || change_date
            || ' (its current content first seen in the snapshot of ' || change_at_text
            || ', not in the one of ' || valid_from_text || '): judged in that'
            || ' content over ' || exists_from_text || ' to ' || exists_to_text || ', where no'
            || ' accepted initiating flow matched it; a content younger than the day is not called'
            || ' unused'
        WHEN change = 'deleted'
            THEN 'deleted: last seen in the snapshot of ' || seen_to_text
            || ', gone from the one of ' || change_at_text || '; judged over ' || exists_from_text
            || ' to ' || exists_to_text
            || ', where no accepted initiating flow matched it; a deleted rule is recommended for'
            || ' nothing'
        WHEN last_date IS NOT NULL THEN
            'no matching flow on ' || CAST($day AS VARCHAR)
            || '; last used on ' || CAST(last_date AS VARCHAR)
            || ', within the lookback since ' || CAST($lookback_start AS VARCHAR)
        WHEN covered_members < members THEN
            CAST(members - covered_members AS VARCHAR) || ' of ' || CAST(members AS VARCHAR)
            || ' ENIs of ' || group_id || ' lack full flow-log coverage on '
            || CAST($day AS VARCHAR) || ', e.g. ' || first_gap
        ELSE
            'no accepted initiating flow matched it on ' || CAST($day AS VARCHAR)
            || ' although all '
            || CAST(members AS VARCHAR) || ' ENIs of ' || group_id
            || ' had an ALL-traffic flow log for the whole day without SKIPDATA'
    END AS status_reason,
    CAST(sole_connections AS BIGINT) AS sole_connections,
    vpc_id, ip_protocol, from_port, to_port, peer_type, peer,
    CAST(members AS BIGINT) AS members,
    CAST(covered_members AS BIGINT) AS covered_members,
    CASE WHEN flows > 0 THEN CAST($day AS DATE) ELSE last_date END AS last_used_date,
    exists_from, exists_to, change,
    CASE WHEN change IS NOT NULL THEN change_at END AS change_at
FROM judged
