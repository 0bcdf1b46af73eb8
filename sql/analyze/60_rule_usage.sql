-- name: 60_rule_usage
-- returns: the results table rule_usage: one row per SG rule for the day with status
--     used|unused|unobservable|no_coverage|no_members, the counts of the accepted initiating flows
--     it allows, and status_reason in words
-- params: $day, $lookback_start, $window_start, $window_end
-- Order of judgement: used today; no_members; unobservable (peer never logged, DHCP, ICMP
-- type/code); used on an earlier analysed day within the lookback (status used, flows 0,
-- last_used_date from history); no_coverage; unused.
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
        MIN(first_seen) AS first_seen,
        MAX(last_seen) AS last_seen
    FROM rule_matches
    GROUP BY rule_id, group_id
), used_before AS (
    SELECT rule_id, group_id, MAX(date) AS last_date
    FROM prior_rule_usage
    WHERE date >= $lookback_start AND date < $day AND flows > 0
    GROUP BY rule_id, group_id
), never_logged_peers AS (
    SELECT sg_rules.rule_id, sg_rules.group_id, MIN(never_logged.what) AS what
    FROM sg_rules
    INNER JOIN never_logged
        ON
            sg_rules.peer_type IN ('cidr4', 'cidr6')
            AND sg_rules.peer_family = never_logged.family
            AND sg_rules.peer_lo >= never_logged.lo
            AND sg_rules.peer_hi <= never_logged.hi
            AND (never_logged.owner = '*' OR sg_rules.vpc_id = never_logged.owner)
    GROUP BY sg_rules.rule_id, sg_rules.group_id
), with_usage AS (
    SELECT
        sg_rules.rule_id, sg_rules.group_id, sg_rules.direction, sg_rules.vpc_id,
        sg_rules.ip_protocol, sg_rules.from_port, sg_rules.to_port, sg_rules.peer_type,
        sg_rules.peer,
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
        CASE
            WHEN
                sg_rules.ip_protocol IN (1, 58)
                AND sg_rules.from_port IS NOT NULL AND sg_rules.from_port >= 0
                THEN 'icmp_type'
            WHEN sg_rules.ip_protocol = 17 AND sg_rules.from_port >= 67 AND sg_rules.to_port <= 68
                THEN 'dhcp'
        END AS unobservable_kind
    FROM sg_rules
    LEFT JOIN usage
        ON sg_rules.rule_id = usage.rule_id AND sg_rules.group_id = usage.group_id
    LEFT JOIN members ON sg_rules.group_id = members.group_id
    LEFT JOIN used_before
        ON sg_rules.rule_id = used_before.rule_id AND sg_rules.group_id = used_before.group_id
    LEFT JOIN never_logged_peers
        ON
            sg_rules.rule_id = never_logged_peers.rule_id
            AND sg_rules.group_id = never_logged_peers.group_id
), judged AS (
    SELECT
        with_usage.*,
        CASE
            WHEN unobservable_kind = 'icmp_type' THEN 'unobservable'
            WHEN flows > 0 THEN 'used'
            WHEN members = 0 THEN 'no_members'
            WHEN never_logged IS NOT NULL OR unobservable_kind IS NOT NULL THEN 'unobservable'
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
        WHEN members = 0 THEN group_id || ' is attached to no network interface'
        WHEN never_logged IS NOT NULL
            THEN 'its peer ' || peer || ' is ' || never_logged
            || ', whose traffic flow logs never record'
        WHEN unobservable_kind = 'dhcp' THEN 'DHCP (udp 67-68) is never recorded by flow logs'
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
    CASE WHEN flows > 0 THEN CAST($day AS DATE) ELSE last_date END AS last_used_date
FROM judged
