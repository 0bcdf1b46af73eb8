-- name: 70_rejected
-- returns: the results table rejected: one row per REJECT record of the day, every flow column
--     plus cause (nacl|sg|bpa|late_packet|unknown) and cause_detail in words
-- params: $day
-- Decision procedure of docs/analysis.md#rejected-causes: reject-reason BPA; ENI without SGs →
-- NACL; the reply of an accepted request → NACL (SGs never drop replies); FIN/RST-only TCP on a
-- conversation with ACCEPTs → late packet; same subnet (no NACL in between) → SG unless a rule
-- allows it; the subnet NACL in rule order denies → NACL; no SG rule allows → SG. When both layers
-- allow it (or a rule allows it within the subnet) the cause needs evidence: FIN/RST without SYN,
-- or tcp-flags without SYN on a 5-tuple with earlier ACCEPTs → late packet; otherwise (e.g. v2
-- without tcp-flags) unknown.
-- Each cause then words its evidence (explained): one CASE over the classified rows, not a CTE
-- per cause, since five readers of one CTE make DuckDB materialise every wide REJECT row.
WITH rejects AS (
    SELECT
        flows.*,
        COALESCE(pkt_srcaddr, srcaddr) AS x_src,
        COALESCE(pkt_dstaddr, dstaddr) AS x_dst,
        COALESCE(srcport, 0) AS x_sport,
        COALESCE(dstport, 0) AS x_dport
    FROM flows
    WHERE
        date = $day AND action = 'REJECT' AND COALESCE(log_status, 'OK') = 'OK'
        AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND protocol IS NOT NULL
), oriented AS (
    SELECT
        rejects.*,
        (x_src < x_dst OR (x_src = x_dst AND x_sport <= x_dport)) AS x_fwd
    FROM rejects
), rejected_conversations AS (
    -- every REJECT record's conversation counted it, so only conversations with rejects can match
    SELECT * FROM conversation_sides WHERE rejected_flows > 0
), with_conversation AS (
    SELECT
        oriented.*,
        conversation.init_side,
        conversation.local_side,
        conversation.flows AS conv_flows,
        conversation.accepted_records,
        conversation.family AS x_family,
        (
            conversation.first_accept IS NOT NULL AND conversation.first_accept < oriented.start
        ) AS earlier_accept,
        conversation.initiator_addr,
        conversation.ep_lo,
        conversation.ep_hi,
        COALESCE(conversation.in_inventory, FALSE) AS in_inventory,
        COALESCE(conversation.has_sgs, FALSE) AS has_sgs,
        CASE
            WHEN conversation.local_side IS NULL THEN NULL
            WHEN
                (oriented.x_fwd AND conversation.local_side = 'lo')
                OR (NOT oriented.x_fwd AND conversation.local_side = 'hi')
                THEN 'egress'
            ELSE 'ingress'
        END AS x_dir,
        (
            (oriented.x_fwd AND conversation.init_side = 'hi')
            OR (NOT oriented.x_fwd AND conversation.init_side = 'lo')
        ) AS is_reply
    FROM oriented
    LEFT JOIN rejected_conversations AS conversation
        ON
            oriented.interface_id = conversation.eni_id
            AND oriented.protocol = conversation.protocol
            AND CASE WHEN oriented.x_fwd THEN oriented.x_src ELSE oriented.x_dst END
            = conversation.lo_addr
            AND CASE WHEN oriented.x_fwd THEN oriented.x_sport ELSE oriented.x_dport END
            = conversation.lo_port
            AND CASE WHEN oriented.x_fwd THEN oriented.x_dst ELSE oriented.x_src END
            = conversation.hi_addr
            AND CASE WHEN oriented.x_fwd THEN oriented.x_dport ELSE oriented.x_sport END
            = conversation.hi_port
), subnets AS (
    -- a subnet has at most one range per family, so joining it adds no rows
    SELECT DISTINCT owner, family, lo, hi FROM subnet_ranges
), with_place AS (
    SELECT
        with_conversation.*,
        CASE
            WHEN with_conversation.x_dir = 'egress' THEN with_conversation.x_dst
            ELSE with_conversation.x_src
        END AS x_remote,
        remote_keys.key AS x_remote_key,
        remote_keys.key_id AS x_remote_kid,
        eni_info.nacl_id AS x_nacl,
        eni_info.subnet_id AS x_subnet,
        eni_info.interface_type AS x_itype,
        subnets.owner IS NOT NULL AS same_subnet,
        COALESCE(
            protocol_names.name, 'protocol ' || CAST(with_conversation.protocol AS VARCHAR)
        ) AS x_proto
    FROM with_conversation
    LEFT JOIN protocol_names ON with_conversation.protocol = protocol_names.protocol
    LEFT JOIN addr_keys AS remote_keys
        ON
            CASE
                WHEN with_conversation.x_dir = 'egress' THEN with_conversation.x_dst
                ELSE with_conversation.x_src
            END
            = remote_keys.addr
    LEFT JOIN eni_info ON with_conversation.interface_id = eni_info.eni_id
    LEFT JOIN subnets
        ON
            eni_info.subnet_id = subnets.owner
            AND remote_keys.family = subnets.family
            AND remote_keys.key BETWEEN subnets.lo AND subnets.hi
), with_verdicts AS (
    SELECT
        with_place.*,
        nacl_verdicts.rule_number AS nacl_rule,
        nacl_verdicts.rule_action AS nacl_action,
        nacl_verdicts.cidr AS nacl_cidr,
        COALESCE(key_rule_counts.rules_matched, 0) AS sg_allowing,
        with_place.x_proto
        || CASE
            WHEN with_place.protocol IN (6, 17) THEN '/' || CAST(with_place.x_dport AS VARCHAR)
            ELSE ''
        END AS x_what
    FROM with_place
    LEFT JOIN nacl_verdicts
        ON
            with_place.x_nacl = nacl_verdicts.nacl_id
            AND with_place.x_dir = nacl_verdicts.direction
            AND with_place.protocol = nacl_verdicts.protocol
            AND with_place.x_family = nacl_verdicts.family
            AND with_place.x_remote_key = nacl_verdicts.remote_key
            AND with_place.x_dport = nacl_verdicts.port
    LEFT JOIN key_rule_counts
        ON
            with_place.interface_id = key_rule_counts.eni_id
            AND with_place.x_dir = key_rule_counts.rule_direction
            AND with_place.protocol = key_rule_counts.protocol
            AND with_place.x_family = key_rule_counts.family
            AND with_place.x_remote_kid = key_rule_counts.peer_kid
            AND with_place.x_dport = key_rule_counts.port
            AND with_place.ep_lo = key_rule_counts.ep_lo
            AND with_place.ep_hi = key_rule_counts.ep_hi
), with_flags AS (
    SELECT
        with_verdicts.*,
        (
            protocol = 6 AND tcp_flags IS NOT NULL
            AND (tcp_flags & 5) <> 0 AND (tcp_flags & 2) = 0
        ) AS fin_rst,
        (
            protocol = 6 AND tcp_flags IS NOT NULL
            AND (tcp_flags & 2) = 0 AND earlier_accept
        ) AS mid_connection
    FROM with_verdicts
), classified AS (
    SELECT
        with_flags.*,
        CASE
            WHEN reject_reason = 'BPA' THEN 'bpa'
            WHEN reject_reason IS NOT NULL THEN 'unknown'
            WHEN NOT in_inventory THEN 'unknown'
            WHEN NOT has_sgs THEN 'nacl'
            WHEN is_reply AND conv_flows > 0 THEN 'nacl'
            WHEN fin_rst AND accepted_records > 0 THEN 'late_packet'
            WHEN x_dir IS NULL THEN 'unknown'
            WHEN same_subnet AND sg_allowing > 0 AND (fin_rst OR mid_connection) THEN 'late_packet'
            WHEN same_subnet AND sg_allowing > 0 THEN 'unknown'
            WHEN same_subnet THEN 'sg'
            WHEN nacl_action = 'deny' THEN 'nacl'
            WHEN sg_allowing = 0 THEN 'sg'
            WHEN nacl_action = 'allow' AND (fin_rst OR mid_connection) THEN 'late_packet'
            ELSE 'unknown'
        END AS cause,
        -- the phrases several causes' details share
        x_what || CASE WHEN x_dir = 'ingress' THEN ' from ' ELSE ' to ' END || x_remote AS x_flow,
        CAST(nacl_rule AS VARCHAR) || ' ' || nacl_action || 's ' || nacl_cidr AS nacl_entry,
        'both NACL ' || x_nacl || ' (entry ' || CAST(nacl_rule AS VARCHAR) || ') and '
        || CAST(sg_allowing AS VARCHAR) || ' security-group rule(s) allow' AS both_allow,
        CASE
            WHEN tcp_flags IS NULL THEN 'the flow-log format has no tcp-flags to show a FIN/RST'
            ELSE 'its tcp-flags (' || CAST(tcp_flags AS VARCHAR) || ') show no FIN/RST'
        END
        || CASE
            WHEN earlier_accept
                THEN ' (the same 5-tuple had accepted records earlier in the day)'
            ELSE ' and the same 5-tuple had no earlier accepted record'
        END AS missing_evidence
    FROM with_flags
), explained AS (
    -- each cause words its own evidence: the arms of one cause are together, in its order
    SELECT
        classified.*,
        CASE
            -- bpa
            WHEN cause = 'bpa' THEN 'blocked by VPC Block Public Access (reject-reason BPA)'
            -- nacl
            WHEN cause = 'nacl' AND NOT has_sgs
                THEN interface_id || ' has no security groups ('
                || COALESCE(x_itype, 'unknown type') || '); only the NACL '
                || COALESCE(x_nacl, '(unknown)') || ' of ' || COALESCE(x_subnet, 'its subnet')
                || ' filters it' || COALESCE('; entry ' || nacl_entry, '')
            WHEN cause = 'nacl' AND is_reply AND conv_flows > 0
                THEN 'reply to an accepted ' || x_proto || ' request from ' || initiator_addr
                || ': security groups never drop replies, so the stateless NACL '
                || COALESCE(x_nacl, '(unknown)') || ' denies the return traffic'
                || COALESCE(' (entry ' || nacl_entry || ')', '')
            WHEN cause = 'nacl'
                THEN 'NACL ' || x_nacl || ' entry ' || CAST(nacl_rule AS VARCHAR) || ' (' || x_dir
                || ' deny ' || nacl_cidr || ') is the first to match ' || x_flow
                || CASE
                    WHEN sg_allowing = 0 THEN '; no security-group rule would allow it either'
                    ELSE ''
                END
            -- sg
            WHEN cause = 'sg' AND same_subnet
                THEN 'same subnet (NACLs do not apply): no ' || x_dir
                || ' rule of the security groups of ' || interface_id || ' allows ' || x_flow
            WHEN cause = 'sg'
                THEN 'no ' || x_dir || ' rule of the security groups of ' || interface_id
                || ' allows ' || x_flow
                || CASE
                    WHEN nacl_action = 'allow'
                        THEN ' (NACL ' || x_nacl || ' entry ' || CAST(nacl_rule AS VARCHAR)
                        || ' allows it)'
                    ELSE ''
                END
            -- late_packet
            WHEN cause = 'late_packet' AND fin_rst
                THEN 'FIN/RST without SYN (tcp-flags ' || CAST(tcp_flags AS VARCHAR)
                || ') on a connection with accepted records'
                || CASE
                    WHEN same_subnet
                        THEN ' (same subnet, no NACL applies; a security-group rule allows it)'
                    ELSE ''
                END
                || ': a packet after close or after the connection-tracking timeout'
            WHEN cause = 'late_packet'
                THEN 'tcp-flags ' || CAST(tcp_flags AS VARCHAR)
                || ' without SYN on a 5-tuple with earlier accepted records, and '
                || CASE
                    WHEN same_subnet
                        THEN 'a security-group rule allows it (same subnet, no NACL applies)'
                    ELSE both_allow || ' it'
                END
                || ': a packet after the connection-tracking entry expired'
            -- unknown
            WHEN reject_reason IS NOT NULL
                THEN 'reject-reason ' || reject_reason
                || ' (not a security group or NACL decision)'
            WHEN NOT in_inventory THEN interface_id || ' is not in the inventory snapshot'
            WHEN
                x_dir IS NOT NULL AND sg_allowing > 0
                AND (same_subnet OR nacl_action = 'allow')
                THEN CASE
                    WHEN same_subnet
                        THEN 'same subnet (no NACL applies) and ' || CAST(sg_allowing AS VARCHAR)
                        || ' security-group rule(s) allow '
                    ELSE both_allow || ' '
                END
                || x_flow || ', but ' || missing_evidence
                || ': a late packet after close, an expired connection-tracking entry, '
                || 'asymmetric routing and a stale inventory snapshot cannot be told apart'
            WHEN x_dir IS NULL THEN 'neither address is known to belong to ' || interface_id
            ELSE
                'a security-group rule allows it but the NACL of '
                || COALESCE(x_subnet, 'the subnet') || ' is not in the inventory'
        END AS cause_detail
    FROM classified
)
SELECT
    account_id, region, version, interface_id, srcaddr, dstaddr, srcport, dstport, protocol,
    packets, bytes, start, "end", action, log_status, vpc_id, subnet_id, instance_id, tcp_flags,
    type, pkt_srcaddr, pkt_dstaddr, az_id, sublocation_type, sublocation_id, pkt_src_aws_service,
    pkt_dst_aws_service, flow_direction, traffic_path, ecs_cluster_arn, ecs_cluster_name,
    ecs_container_instance_arn, ecs_container_instance_id, ecs_container_id,
    ecs_second_container_id, ecs_service_name, ecs_task_definition_arn, ecs_task_arn,
    ecs_task_id, reject_reason, source_key, flow_log_id, extra,
    cause,
    cause_detail
FROM explained
