-- name: 70_rejected
-- returns: the results table rejected: one row per REJECT record of the day, every flow column plus cause (nacl|sg|bpa|late_packet|unknown) and cause_detail in words
-- params: $day
-- Decision procedure of docs/analysis.md#rejected-causes: reject-reason BPA; ENI without SGs → NACL; the reply of an
-- accepted request → NACL (SGs never drop replies); FIN/RST-only TCP on a conversation with ACCEPTs
-- → late packet; same subnet (no NACL in between) → SG unless a rule allows it; the subnet NACL in
-- rule order denies → NACL; no SG rule allows → SG. When both layers allow it (or a rule allows it
-- within the subnet) the cause needs evidence: FIN/RST without SYN, or tcp-flags without SYN on a
-- 5-tuple with earlier ACCEPTs → late packet; otherwise (e.g. v2 without tcp-flags) unknown.
WITH r AS (
    SELECT
        f.account_id, f.region,
        f.version, f.interface_id, f.srcaddr, f.dstaddr, f.srcport, f.dstport, f.protocol, f.packets, f.bytes,
        f.start, f."end", f.action, f.log_status, f.vpc_id, f.subnet_id, f.instance_id, f.tcp_flags, f.type,
        f.pkt_srcaddr, f.pkt_dstaddr, f.az_id, f.sublocation_type, f.sublocation_id, f.pkt_src_aws_service,
        f.pkt_dst_aws_service, f.flow_direction, f.traffic_path, f.ecs_cluster_arn, f.ecs_cluster_name,
        f.ecs_container_instance_arn, f.ecs_container_instance_id, f.ecs_container_id, f.ecs_second_container_id,
        f.ecs_service_name, f.ecs_task_definition_arn, f.ecs_task_arn, f.ecs_task_id, f.reject_reason,
        f.source_key, f.flow_log_id, f.extra,
        COALESCE(f.pkt_srcaddr, f.srcaddr) AS x_src,
        COALESCE(f.pkt_dstaddr, f.dstaddr) AS x_dst,
        COALESCE(f.srcport, 0) AS x_sport,
        COALESCE(f.dstport, 0) AS x_dport
    FROM flows f
    WHERE f.date = $day AND f.action = 'REJECT' AND COALESCE(f.log_status, 'OK') = 'OK'
      AND f.srcaddr IS NOT NULL AND f.dstaddr IS NOT NULL AND f.protocol IS NOT NULL
), k AS (
    SELECT r.*, (x_src < x_dst OR (x_src = x_dst AND x_sport <= x_dport)) AS x_fwd FROM r
), j AS (
    SELECT
        k.*,
        cs.init_side, cs.local_side, cs.flows AS conv_flows, cs.accepted_records, cs.family AS x_family,
        (cs.first_accept IS NOT NULL AND cs.first_accept < k.start) AS earlier_accept,
        cs.initiator_addr,
        COALESCE(cs.in_inventory, FALSE) AS in_inventory, COALESCE(cs.has_sgs, FALSE) AS has_sgs,
        CASE
            WHEN cs.local_side IS NULL THEN NULL
            WHEN (k.x_fwd AND cs.local_side = 'lo') OR (NOT k.x_fwd AND cs.local_side = 'hi') THEN 'egress'
            ELSE 'ingress'
        END AS x_dir,
        ((k.x_fwd AND cs.init_side = 'hi') OR (NOT k.x_fwd AND cs.init_side = 'lo')) AS is_reply
    FROM k
    -- every REJECT record's conversation counted it, so only conversations with rejects can match
    LEFT JOIN (SELECT * FROM conversation_sides WHERE rejected_flows > 0) cs
        ON cs.eni_id = k.interface_id AND cs.protocol = k.protocol
       AND cs.lo_addr = CASE WHEN k.x_fwd THEN k.x_src ELSE k.x_dst END
       AND cs.lo_port = CASE WHEN k.x_fwd THEN k.x_sport ELSE k.x_dport END
       AND cs.hi_addr = CASE WHEN k.x_fwd THEN k.x_dst ELSE k.x_src END
       AND cs.hi_port = CASE WHEN k.x_fwd THEN k.x_dport ELSE k.x_sport END
), j2 AS (
    SELECT
        j.*,
        CASE WHEN j.x_dir = 'egress' THEN j.x_dst ELSE j.x_src END AS x_remote,
        rk.key AS x_remote_key,
        ei.nacl_id AS x_nacl, ei.subnet_id AS x_subnet, ei.interface_type AS x_itype,
        sr.owner IS NOT NULL AS same_subnet,
        CASE j.protocol WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 1 THEN 'icmp' WHEN 58 THEN 'icmpv6'
                        ELSE 'protocol ' || CAST(j.protocol AS VARCHAR) END AS x_proto
    FROM j
    LEFT JOIN addr_keys rk ON rk.addr = CASE WHEN j.x_dir = 'egress' THEN j.x_dst ELSE j.x_src END
    LEFT JOIN eni_info ei ON ei.eni_id = j.interface_id
    -- a subnet has at most one range per family, so this join adds no rows
    LEFT JOIN (SELECT DISTINCT owner, family, lo, hi FROM subnet_ranges) sr
        ON sr.owner = ei.subnet_id AND sr.family = rk.family AND rk.key BETWEEN sr.lo AND sr.hi
), j3 AS (
    SELECT
        j2.*,
        nv.rule_number AS nacl_rule, nv.rule_action AS nacl_action, nv.cidr AS nacl_cidr,
        COALESCE(n.rules_matched, 0) AS sg_allowing,
        j2.x_proto || CASE WHEN j2.protocol IN (6, 17) THEN '/' || CAST(j2.x_dport AS VARCHAR) ELSE '' END AS x_what
    FROM j2
    LEFT JOIN nacl_verdicts nv
        ON nv.nacl_id = j2.x_nacl AND nv.direction = j2.x_dir AND nv.protocol = j2.protocol
       AND nv.family = j2.x_family AND nv.remote_key = j2.x_remote_key AND nv.port = j2.x_dport
    LEFT JOIN key_rule_counts n
        ON n.eni_id = j2.interface_id AND n.rule_direction = j2.x_dir AND n.protocol = j2.protocol
       AND n.family = j2.x_family AND n.peer_key = j2.x_remote_key AND n.port = j2.x_dport
), e AS (
    SELECT
        j3.*,
        (protocol = 6 AND tcp_flags IS NOT NULL AND (tcp_flags & 5) <> 0 AND (tcp_flags & 2) = 0) AS fin_rst,
        (protocol = 6 AND tcp_flags IS NOT NULL AND (tcp_flags & 2) = 0 AND earlier_accept) AS mid_connection
    FROM j3
), c AS (
    SELECT
        e.*,
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
        CASE
            WHEN tcp_flags IS NULL THEN 'the flow-log format has no tcp-flags to show a FIN/RST'
            ELSE 'its tcp-flags (' || CAST(tcp_flags AS VARCHAR) || ') show no FIN/RST'
        END || CASE
            WHEN earlier_accept THEN ' (the same 5-tuple had accepted records earlier in the day)'
            ELSE ' and the same 5-tuple had no earlier accepted record'
        END AS missing_evidence
    FROM e
)
SELECT
    account_id, region, version, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes,
    start, "end", action, log_status, vpc_id, subnet_id, instance_id, tcp_flags, type, pkt_srcaddr, pkt_dstaddr,
    az_id, sublocation_type, sublocation_id, pkt_src_aws_service, pkt_dst_aws_service, flow_direction,
    traffic_path, ecs_cluster_arn, ecs_cluster_name, ecs_container_instance_arn, ecs_container_instance_id,
    ecs_container_id, ecs_second_container_id, ecs_service_name, ecs_task_definition_arn, ecs_task_arn,
    ecs_task_id, reject_reason, source_key, flow_log_id, extra,
    cause,
    CASE
        WHEN reject_reason = 'BPA' THEN 'blocked by VPC Block Public Access (reject-reason BPA)'
        WHEN reject_reason IS NOT NULL THEN 'reject-reason ' || reject_reason || ' (not a security group or NACL decision)'
        WHEN NOT in_inventory THEN interface_id || ' is not in the inventory snapshot'
        WHEN NOT has_sgs THEN interface_id || ' has no security groups (' || COALESCE(x_itype, 'unknown type')
            || '); only the NACL ' || COALESCE(x_nacl, '(unknown)') || ' of ' || COALESCE(x_subnet, 'its subnet') || ' filters it'
            || COALESCE('; entry ' || CAST(nacl_rule AS VARCHAR) || ' ' || nacl_action || 's ' || nacl_cidr, '')
        WHEN is_reply AND conv_flows > 0 THEN 'reply to an accepted ' || x_proto || ' request from ' || initiator_addr
            || ': security groups never drop replies, so the stateless NACL ' || COALESCE(x_nacl, '(unknown)')
            || ' denies the return traffic' || COALESCE(' (entry ' || CAST(nacl_rule AS VARCHAR) || ' ' || nacl_action || 's ' || nacl_cidr || ')', '')
        WHEN cause = 'late_packet' AND fin_rst THEN 'FIN/RST without SYN (tcp-flags '
            || CAST(tcp_flags AS VARCHAR) || ') on a connection with accepted records'
            || CASE WHEN same_subnet THEN ' (same subnet, no NACL applies; a security-group rule allows it)' ELSE '' END
            || ': a packet after close or after the connection-tracking timeout'
        WHEN cause = 'late_packet' THEN 'tcp-flags ' || CAST(tcp_flags AS VARCHAR) || ' without SYN on a 5-tuple with earlier accepted records, and '
            || CASE WHEN same_subnet THEN 'a security-group rule allows it (same subnet, no NACL applies)'
                    ELSE 'both NACL ' || x_nacl || ' (entry ' || CAST(nacl_rule AS VARCHAR) || ') and ' || CAST(sg_allowing AS VARCHAR)
                         || ' security-group rule(s) allow it' END
            || ': a packet after the connection-tracking entry expired'
        WHEN cause = 'unknown' AND x_dir IS NOT NULL AND sg_allowing > 0 AND (same_subnet OR nacl_action = 'allow') THEN
            CASE WHEN same_subnet THEN 'same subnet (no NACL applies) and ' || CAST(sg_allowing AS VARCHAR) || ' security-group rule(s) allow '
                 ELSE 'both NACL ' || x_nacl || ' (entry ' || CAST(nacl_rule AS VARCHAR) || ') and ' || CAST(sg_allowing AS VARCHAR)
                      || ' security-group rule(s) allow ' END
            || x_what || CASE WHEN x_dir = 'ingress' THEN ' from ' ELSE ' to ' END || x_remote || ', but ' || missing_evidence
            || ': a late packet after close, an expired connection-tracking entry, asymmetric routing and a stale inventory snapshot cannot be told apart'
        WHEN x_dir IS NULL THEN 'neither address is known to belong to ' || interface_id
        WHEN cause = 'sg' AND same_subnet THEN 'same subnet (NACLs do not apply): no ' || x_dir || ' rule of the security groups of '
            || interface_id || ' allows ' || x_what || CASE WHEN x_dir = 'ingress' THEN ' from ' ELSE ' to ' END || x_remote
        WHEN cause = 'nacl' THEN 'NACL ' || x_nacl || ' entry ' || CAST(nacl_rule AS VARCHAR) || ' (' || x_dir || ' deny '
            || nacl_cidr || ') is the first to match ' || x_what || CASE WHEN x_dir = 'ingress' THEN ' from ' ELSE ' to ' END || x_remote
            || CASE WHEN sg_allowing = 0 THEN '; no security-group rule would allow it either' ELSE '' END
        WHEN cause = 'sg' THEN 'no ' || x_dir || ' rule of the security groups of ' || interface_id || ' allows ' || x_what
            || CASE WHEN x_dir = 'ingress' THEN ' from ' ELSE ' to ' END || x_remote
            || CASE WHEN nacl_action = 'allow' THEN ' (NACL ' || x_nacl || ' entry ' || CAST(nacl_rule AS VARCHAR) || ' allows it)' ELSE '' END
        ELSE 'a security-group rule allows it but the NACL of ' || COALESCE(x_subnet, 'the subnet') || ' is not in the inventory'
    END AS cause_detail
FROM c
