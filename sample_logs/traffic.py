"""The day's traffic, as flow records per logged ENI.

Each connection is generated once and recorded on every logged ENI it crosses, in both
directions, one record per aggregation window of that ENI's flow log. Every record carries
``meta``: whether it is an accepted record in the initiating direction (and then which rules of
that ENI allow it, declared per traffic class by hand), or which reject class it belongs to.
"""

from __future__ import annotations

import ipaddress
import math
import random
from dataclasses import dataclass, field

from scenario import (
    ALBS,
    APPS,
    DNS_RESOLVER,
    ENIS,
    MONITOR_HOST,
    OFFICES,
    S3_PL_CIDRS,
    SUBNETS,
    VPC_CIDR,
    flow_log_of,
)

TCP, UDP, ICMP = 6, 17, 1
SYN, FIN, RST, SYNACK = 2, 1, 4, 18
DAY_SECONDS = 86400
BPA_WINDOW = (14 * 3600 + 2 * 60, 14 * 3600 + 10 * 60)  # [14:02, 14:10)
SKIPDATA_AT = ("nat", 13 * 3600 + 37 * 60)  # the NAT ENI loses one minute of records
VPC = ipaddress.ip_network(VPC_CIDR)
RFC1918 = tuple(ipaddress.ip_network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


@dataclass
class Rec:
    eni: str
    src: str
    dst: str
    sport: int | None
    dport: int | None
    proto: int | None
    packets: int | None
    bytes: int | None
    start: int
    end: int
    flags: int | None
    action: str | None
    status: str = "OK"
    pkt_src: str | None = None
    pkt_dst: str | None = None
    src_svc: str | None = None
    dst_svc: str | None = None
    reject_reason: str | None = None
    # bookkeeping for expectations
    init: bool = False  # record in the initiating direction
    rules: tuple[str, ...] = ()  # rules of this ENI that allow it (accepted initiating records)
    reject: str | None = None  # reject class (see scenario.REJECT_CLASSES)
    conn: str = ""  # connection key (for `connections` counts)
    service_port: int | None = None


@dataclass
class Side:
    """One endpoint as a given ENI sees it."""

    addr: str
    port: int


@dataclass
class View:
    """How one logged ENI sees one connection."""

    eni: str
    rules: tuple[str, ...] = ()  # rules allowing the initiating direction on this ENI
    # address rewriting on a NAT hop: (client-side src, client-side dst) per direction
    nat: str | None = None  # None | "inside" | "outside"


@dataclass
class Day:
    t0: int
    rng: random.Random
    records: list[Rec] = field(default_factory=list)
    seq: int = 0

    def next_conn(self, tag: str) -> str:
        self.seq += 1
        return f"{tag}#{self.seq}"


def load(t: int) -> float:
    """Diurnal load in [0.12, 1]: a US audience, peak around 17:00 UTC."""
    h = (t % DAY_SECONDS) / 3600
    return 0.12 + 0.88 * math.exp(-(((h - 17.5) / 4.2) ** 2)) + 0.25 * math.exp(-(((h - 1.5) / 1.5) ** 2))


def eph(rng: random.Random, kind: str) -> int:
    lo, hi = {"linux": (32768, 60999), "windows": (49152, 65535), "elb": (1024, 65535), "nat": (1024, 65535)}[kind]
    return rng.randint(lo, hi)


def is_private(addr: str) -> bool:
    return ipaddress.ip_address(addr) in VPC


_S3_NETS = tuple(ipaddress.ip_network(c) for c in S3_PL_CIDRS)


def aws_service(addr: str) -> str | None:
    if ":" in addr:
        return None
    ip = ipaddress.ip_address(addr)
    return "S3" if any(ip in net for net in _S3_NETS) else None


def eni_addrs(eni: str) -> set[str]:
    e = ENIS[eni]
    return {e.ip, *e.ipv6}


def traffic_path(eni: str, dst: str) -> int:
    """traffic-path of an egress record: 1 within the VPC (NAT, TGW included), 8 via the IGW."""
    public_facing = ENIS[eni].kind in ("alb", "nat") or ENIS[eni].public_ip is not None
    if any(ipaddress.ip_address(dst) in net for net in RFC1918):
        return 1
    return 8 if public_facing else 1


def windows(t_start: int, t_end: int, interval: int) -> list[tuple[int, int]]:
    """Aggregation windows [ws, ws+interval) overlapping [t_start, t_end]."""
    ws = t_start - t_start % interval
    out = []
    while ws <= t_end:
        out.append((ws, ws + interval))
        ws += interval
    return out


def split(total: int, n: int, rng: random.Random) -> list[int]:
    if n == 1:
        return [total]
    weights = [rng.random() + 0.2 for _ in range(n)]
    s = sum(weights)
    parts = [max(1, int(total * w / s)) for w in weights]
    return parts


def tcp_conn(day: Day, tag: str, client: Side, server: Side, t_open: int, t_close: int,
             views: list[View], req: tuple[int, int], rep: tuple[int, int], *,
             opened_before: bool = False, closes: bool = True, activity: float = 1.0,
             ending: int = FIN) -> str:
    """Record one TCP connection on every logged ENI of ``views``; returns its key.

    ``req``/``rep`` are total (packets, bytes) client->server and server->client. With
    ``opened_before`` there is no SYN (the connection predates the data); without ``closes``
    there is no FIN (it outlives the day).
    """
    conn = day.next_conn(tag)
    for view in views:
        fl = flow_log_of(view.eni)
        if fl is None or fl.traffic_type == "REJECT":
            continue
        wins = windows(t_open, t_close, fl.interval)
        active = [i for i in range(len(wins))
                  if i in (0, len(wins) - 1) or day.rng.random() < activity]
        preqs = split(req[0], len(active), day.rng)
        breqs = split(req[1], len(active), day.rng)
        preps = split(rep[0], len(active), day.rng)
        breps = split(rep[1], len(active), day.rng)
        for j, i in enumerate(active):
            ws, we = wins[i]
            first, last = i == 0, i == len(wins) - 1
            s = max(t_open, ws) + (0 if first else day.rng.randint(0, 10))
            e = min(t_close, we - 1) if last else we - 1 - day.rng.randint(0, 10)
            s, e = min(s, e), max(s, e)
            f_req = (SYN if first and not opened_before else 0) | (ending if last and closes else 0)
            f_rep = (SYNACK if first and not opened_before else 0) | (FIN if last and closes else 0)
            for direction in ("req", "rep"):
                pk, by = (preqs[j], breqs[j]) if direction == "req" else (preps[j], breps[j])
                _emit_tcp(day, view, conn, client, server, direction, pk, by, s, e,
                          f_req if direction == "req" else f_rep)
    return conn


def _emit_tcp(day: Day, view: View, conn: str, client: Side, server: Side, direction: str,
              pk: int, by: int, s: int, e: int, flags: int) -> None:
    a, b = (client, server) if direction == "req" else (server, client)
    rec = Rec(view.eni, a.addr, b.addr, a.port, b.port, TCP, pk, by, s, e, flags, "ACCEPT",
              conn=conn, service_port=server.port)
    if view.nat is not None:
        _nat_rewrite(rec, view, client, server, direction)
    rec.init = direction == "req" and view.nat is None
    rec.rules = view.rules if rec.init else ()
    rec.src_svc = aws_service(rec.pkt_src or rec.src)
    rec.dst_svc = aws_service(rec.pkt_dst or rec.dst)
    day.records.append(rec)


def _nat_rewrite(rec: Rec, view: View, client: Side, server: Side, direction: str) -> None:
    """NAT gateway ENI addresses (docs/flow-logs.md#addresses-srcaddr-and-pkt-srcaddr): inside leg shows the NAT's own IP."""
    nat_ip = ENIS[view.eni].ip
    if view.nat == "inside":  # client <-> NAT private side
        if direction == "req":
            rec.dst, rec.pkt_src, rec.pkt_dst = nat_ip, client.addr, server.addr
        else:
            rec.src, rec.pkt_src, rec.pkt_dst = nat_ip, server.addr, client.addr
    else:  # NAT -> internet: SNAT to the NAT's private IP and its own port
        nat_port = 1024 + int(conn_hash(rec.conn)) % 64511
        if direction == "req":
            rec.src, rec.sport = nat_ip, nat_port
        else:
            rec.dst, rec.dport = nat_ip, nat_port
        rec.pkt_src, rec.pkt_dst = rec.src, rec.dst


def conn_hash(conn: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(conn)) * 2654435761 % 4294967296


def reject(day: Day, eni: str, src: str, dst: str, sport: int, dport: int, proto: int, t: int,
           cls: str, *, packets: int = 1, flags: int | None = SYN, reason: str | None = None) -> None:
    fl = flow_log_of(eni)
    if fl is None:
        return
    size = 60 if ipaddress.ip_address(src).version == 4 else 80
    by = packets * (84 if proto == ICMP else size)
    e = t + (day.rng.randint(1, 7) if packets > 1 else 0)
    ws = t - t % fl.interval
    e = min(e, ws + fl.interval - 1)
    day.records.append(Rec(eni, src, dst, sport, dport, proto, packets, by, t, e,
                           flags if proto == TCP else 0, "REJECT", reject_reason=reason,
                           reject=cls, conn=day.next_conn(cls), service_port=dport))


# --- address pools -------------------------------------------------------------------------

_V4_FIRST = [o for o in range(1, 224) if o not in (10, 100, 127, 169, 172, 192, 198, 203)]
_V6_PREFIXES = (0x2001, 0x2003, 0x2405, 0x2409, 0x240E, 0x2600, 0x2601, 0x2603, 0x2604, 0x2605,
                0x2607, 0x2800, 0x2803, 0x2A00, 0x2A01, 0x2A02, 0x2A03, 0x2A05, 0x2C0F)


def public_v4(rng: random.Random) -> str:
    return f"{rng.choice(_V4_FIRST)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def public_v6(rng: random.Random) -> str:
    words = [rng.choice(_V6_PREFIXES), *(rng.randint(0, 0xFFFF) for _ in range(7))]
    if words[0] == 0x2001:
        words[1] = rng.randint(0x4000, 0xFFFF)  # keep clear of 2001:db8 and friends
    return str(ipaddress.IPv6Address(":".join(f"{w:x}" for w in words)))


def s3_addresses(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        net = ipaddress.ip_network(rng.choice(S3_PL_CIDRS))
        out.append(str(net.network_address + rng.randint(1, net.num_addresses - 2)))
    return out


# --- traffic classes ------------------------------------------------------------------------


def web(day: Day) -> None:
    """Internet clients -> ALB (443/80); each HTTPS request -> one backend connection to an app."""
    rng = day.rng
    for minute in range(1440):
        t_min = day.t0 + minute * 60
        for _ in range(_poisson(rng, 2.3 * load(t_min))):
            _web_client(day, t_min + rng.randint(0, 59))


_CLIENTS: dict[str, list[str]] = {}


def _client_addr(rng: random.Random) -> str:
    if not _CLIENTS:
        _CLIENTS["v4"] = [public_v4(rng) for _ in range(900)]
        _CLIENTS["v6"] = [public_v6(rng) for _ in range(260)]
    pool = _CLIENTS["v6"] if rng.random() < 0.22 else _CLIENTS["v4"]
    return pool[min(int(rng.paretovariate(1.1)) - 1, len(pool) - 1)] if rng.random() < 0.5 else rng.choice(pool)


def _web_client(day: Day, t: int) -> None:
    rng = day.rng
    addr = _client_addr(rng)
    v6 = ":" in addr
    alb = ENIS[rng.choice(ALBS)]
    alb_addr = alb.ipv6[0] if v6 else alb.ip
    port = 80 if rng.random() < 0.14 else 443
    client = Side(addr, eph(rng, rng.choice(("linux", "windows", "windows"))))
    rel = t - day.t0
    if BPA_WINDOW[0] <= rel < BPA_WINDOW[1]:
        reject(day, alb.name, addr, alb_addr, client.port, port, TCP, t, "bpa", packets=3, reason="BPA")
        return
    rule = f"alb-in-{port}-{'v6' if v6 else 'v4'}"
    dur = rng.randint(1, 25) if rng.random() < 0.88 else rng.randint(60, 420)
    t_close = min(t + dur, day.t0 + DAY_SECONDS - 1)
    if port == 80:
        tcp_conn(day, "web80", client, Side(alb_addr, 80), t, t + 1, [View(alb.name, (rule,))],
                 (5, 420), (4, 610))
        return
    n_req = max(1, dur // 8)
    conn = tcp_conn(day, "web443", client, Side(alb_addr, 443), t, t_close, [View(alb.name, (rule,))],
                    (8 + 6 * n_req, 1400 + 900 * n_req), (10 + 30 * n_req, 6000 + 48000 * n_req),
                    activity=0.8)
    t_late = t_close + rng.randint(30, 50)
    if rng.random() < 0.004 and not BPA_WINDOW[0] - 60 <= t_late - day.t0 < BPA_WINDOW[1]:
        reject(day, alb.name, addr, alb_addr, client.port, 443, TCP, t_late, "late_fin", flags=RST)
    _backend(day, alb.name, t + 1, min(t_close, t + 1 + rng.randint(0, 3)), conn)


def _backend(day: Day, alb: str, t_open: int, t_close: int, front: str) -> None:
    rng = day.rng
    app = rng.choice(APPS)
    alb_side = Side(ENIS[alb].ip, eph(rng, "elb"))
    views = [View(alb, ("alb-out-8080-app",)), View(app, ("app-in-8080-alb", "app-in-8080-vpc"))]
    tcp_conn(day, "backend", alb_side, Side(ENIS[app].ip, 8080), t_open, t_close, views,
             (rng.randint(6, 14), rng.randint(900, 4000)), (rng.randint(8, 60), rng.randint(5000, 90000)))
    if rng.random() < 0.005 and t_close + 120 < day.t0 + DAY_SECONDS:  # late FIN from the ALB
        t = t_close + rng.randint(70, 110)
        day.records.append(Rec(alb, alb_side.addr, ENIS[app].ip, alb_side.port, 8080, TCP, 1, 52, t, t,
                               FIN, "ACCEPT", init=True, rules=("alb-out-8080-app",),
                               conn=f"latefin:{front}", service_port=8080))
        reject(day, app, alb_side.addr, ENIS[app].ip, alb_side.port, 8080, TCP, t, "late_fin", flags=FIN)


def health_checks(day: Day) -> None:
    """Each ALB node checks each target every 120 s (short connections)."""
    rng = day.rng
    for alb in ALBS:
        for k, app in enumerate(APPS):
            for t in range(day.t0 + 17 * k + (0 if alb == "alb-a" else 61), day.t0 + DAY_SECONDS - 2, 120):
                views = [View(alb, ("alb-out-8080-app",)), View(app, ("app-in-8080-alb", "app-in-8080-vpc"))]
                tcp_conn(day, "health", Side(ENIS[alb].ip, eph(rng, "elb")), Side(ENIS[app].ip, 8080),
                         t, t + 1, views, (5, 412), (4, 590))


def database(day: Day) -> None:
    """App -> RDS 5432: two pooled connections per app opened before the day, plus peak-hour growth."""
    rng = day.rng
    rds = ENIS["rds"]
    end = day.t0 + DAY_SECONDS - 1
    for app in APPS:
        views = [View(app, ("app-out-all",)), View("rds", ("db-in-5432-vpc",))]
        for _ in range(2):
            client = Side(ENIS[app].ip, eph(rng, "linux"))
            tcp_conn(day, "dbpool", client, Side(rds.ip, 5432), day.t0, end, views,
                     (42000, 9_800_000), (51000, 61_000_000), opened_before=True, closes=False, activity=0.55)
        for hour in (15, 17, 19):
            t = day.t0 + hour * 3600 + rng.randint(0, 900)
            tcp_conn(day, "dbgrow", Side(ENIS[app].ip, eph(rng, "linux")), Side(rds.ip, 5432),
                     t, t + rng.randint(1800, 5400), views, (3000, 700_000), (3600, 4_200_000), activity=0.7)
    # 04:12: after an RDS maintenance event the RDS ENI rejects three packets of pooled connections
    firsts: dict[str, Rec] = {}
    for r in day.records:
        if r.eni == "rds" and r.conn.startswith("dbpool") and r.init:
            firsts.setdefault(r.src, r)
    for r in firsts.values():  # one packet pair per app server, one record each
        t = day.t0 + 4 * 3600 + 12 * 60 + rng.randint(0, 50)
        reject(day, "rds", r.src, r.dst, r.sport or 0, 5432, TCP, t, "db_unknown", packets=2, flags=None)


def s3(day: Day) -> None:
    """App servers (load-driven), the ops backup (03:00) and batch jobs (uncovered) -> S3 via the NAT."""
    rng = day.rng
    targets = s3_addresses(rng, 40)
    for minute in range(1440):
        t_min = day.t0 + minute * 60
        for _ in range(_poisson(rng, 0.55 * load(t_min))):
            _s3_conn(day, rng.choice(APPS), "app-out-all", t_min + rng.randint(0, 59), targets,
                     rng.randint(1, 30))
    for k in range(6):
        _s3_conn(day, "ops", "default-out-all", day.t0 + 3 * 3600 + 20 * k, targets, rng.randint(300, 900),
                 big=True)
    for minute in range(60, 300, 3):
        _s3_conn(day, rng.choice(("batch-1", "batch-2")), "", day.t0 + minute * 60 + rng.randint(0, 59),
                 targets, rng.randint(5, 120))


def _s3_conn(day: Day, eni: str, rule: str, t: int, targets: list[str], dur: int, big: bool = False) -> None:
    rng = day.rng
    rel = t - day.t0
    if BPA_WINDOW[0] - 900 <= rel < BPA_WINDOW[1]:
        return  # no S3 transfer is scheduled around the BPA test (bidirectional BPA would block NAT egress)
    client = Side(ENIS[eni].ip, eph(rng, "linux"))
    server = Side(rng.choice(targets), 443)
    views = [View("nat", nat="inside"), View("nat", nat="outside")]
    if rule:
        views.insert(0, View(eni, (rule,)))
    size = rng.randint(200_000_000, 900_000_000) if big else rng.randint(20_000, 4_000_000)
    tcp_conn(day, f"s3-{eni}", client, server, t, min(t + dur, day.t0 + DAY_SECONDS - 1), views,
             (size // 1300 + 8, size + 4000), (size // 2600 + 8, 9000 + size // 40))


def ssh(day: Day) -> None:
    """Office -> bastion:22 sessions; inside them, bastion -> app:22 hops."""
    rng = day.rng
    t0 = day.t0
    sessions = [
        (0, -70 * 60, 40 * 60),  # from yesterday 22:50 (no SYN) to 00:40
        (0, 8 * 3600 + 600, 9 * 3600 + 1800), (0, 13 * 3600, 13 * 3600 + 2700),
        (0, 15 * 3600 + 1200, 17 * 3600 + 300),
        (1, 9 * 3600, 11 * 3600 + 1800), (1, 14 * 3600 + 600, 14 * 3600 + 2400),
    ]
    for office, start, stop in sessions:
        before = start < 0
        client = Side(OFFICES[office], eph(rng, "windows"))
        tcp_conn(day, "ssh", client, Side(ENIS["bastion"].ip, 22), t0 + max(start, 0), t0 + stop,
                 [View("bastion", ("bastion-in-22-world",))], (400 + (stop - start) // 4, 90_000 + (stop - start) * 40),
                 (500 + (stop - start) // 3, 200_000 + (stop - start) * 300), opened_before=before, activity=0.8)
        if before:
            continue
        for _ in range(rng.randint(1, 3)):
            hop_start = rng.randint(start + 60, stop - 1200)
            app = rng.choice(APPS)
            views = [View("bastion", ("bastion-out-22-app",)), View(app, ("app-in-22-bastion",))]
            tcp_conn(day, "hop", Side(ENIS["bastion"].ip, eph(rng, "linux")), Side(ENIS[app].ip, 22),
                     t0 + hop_start, t0 + hop_start + rng.randint(300, 1100), views,
                     (300, 60_000), (400, 150_000), activity=0.75)


def pings(day: Day) -> None:
    """bastion pings app-1: request accepted on both ENIs, reply rejected by app-nacl (egress ICMP deny)."""
    bastion, app = ENIS["bastion"], ENIS["app-1"]
    for hhmm in ((10, 15), (10, 16), (13, 5), (15, 30), (15, 31)):
        t = day.t0 + hhmm[0] * 3600 + hhmm[1] * 60 + 7
        conn = day.next_conn("ping")
        for eni, rule in (("bastion", "bastion-out-icmp-app"), ("app-1", "app-in-icmp-bastion")):
            day.records.append(Rec(eni, bastion.ip, app.ip, 0, 0, ICMP, 4, 336, t, t + 3, 0, "ACCEPT",
                                   init=True, rules=(rule,), conn=conn + eni))
        day.records.append(Rec("app-1", app.ip, bastion.ip, 0, 0, ICMP, 4, 336, t, t + 3, 0, "REJECT",
                               reject="ping_reply", conn=conn + "reply"))


def scrapes(day: Day) -> None:
    """Prometheus in the monitoring VPC scrapes node_exporter on every instance every 5 minutes."""
    rng = day.rng
    for k, eni in enumerate(("app-1", "app-2", "app-3", "bastion", "ops", "batch-1", "batch-2")):
        for t in range(day.t0 + 11 + 13 * k, day.t0 + DAY_SECONDS - 2, 300):
            tcp_conn(day, "scrape", Side(MONITOR_HOST, eph(rng, "linux")), Side(ENIS[eni].ip, 9100), t, t,
                     [View(eni, ("base-in-9100-mon",))], (6, 520), (7, rng.randint(38_000, 52_000)))


def scanners(day: Day) -> None:
    """Internet scanners hit closed ports on the public ENIs (never 22 on the bastion, see README)."""
    rng = day.rng
    ports = (23, 25, 445, 1433, 2375, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 27017)
    targets = [("alb-a", ENIS["alb-a"].ip), ("alb-b", ENIS["alb-b"].ip), ("bastion", ENIS["bastion"].ip)]
    for _ in range(45):
        src = public_v4(rng)
        t = day.t0 + rng.randint(0, DAY_SECONDS - 120)
        for _ in range(rng.randint(1, 9)):
            eni, dst = rng.choice(targets)
            t += rng.randint(0, 9)
            _scan(day, eni, src, dst, rng.choice(ports), t)
    sweeper, t = public_v4(rng), day.t0 + 3 * 3600 + 20 * 60
    for port in range(1, 1025, 5):  # a port sweep of the bastion, skipping 22 by construction
        if port != 22:
            _scan(day, "bastion", sweeper, ENIS["bastion"].ip, port, t + port // 20)


def _scan(day: Day, eni: str, src: str, dst: str, port: int, t: int) -> None:
    rel = t - day.t0
    in_bpa = BPA_WINDOW[0] <= rel < BPA_WINDOW[1]
    reject(day, eni, src, dst, eph(day.rng, "linux"), port, TCP, t, "bpa" if in_bpa else "scan",
           packets=day.rng.choice((1, 1, 2)), reason="BPA" if in_bpa else None)


def batch_rejects(day: Day) -> None:
    """batch-1 -> app-2:8080 hourly (NACL deny); batch-2 -> batch-1:9100 every 10 min (same subnet, SG)."""
    rng = day.rng
    b1, b2, app2 = ENIS["batch-1"], ENIS["batch-2"], ENIS["app-2"]
    for hour in range(24):
        t = day.t0 + hour * 3600 + 300 + rng.randint(0, 30)
        reject(day, "app-2", b1.ip, app2.ip, eph(rng, "linux"), 8080, TCP, t, "batch_to_app", packets=3)
    for t in range(day.t0 + 6 * 3600 + 45, day.t0 + 18 * 3600, 600):
        reject(day, "batch-1", b2.ip, b1.ip, eph(rng, "linux"), 9100, TCP, t, "same_subnet", packets=3)


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# --- log status rows ------------------------------------------------------------------------


def status_rows(day: Day) -> None:
    """NODATA for every window of a logged ENI with no record; one SKIPDATA window on the NAT ENI."""
    skip_eni, skip_t = SKIPDATA_AT
    skip_ws = day.t0 + skip_t
    day.records = [r for r in day.records if not (r.eni == skip_eni and skip_ws <= r.end < skip_ws + 60)]
    busy: set[tuple[str, int]] = set()
    for r in day.records:
        fl = flow_log_of(r.eni)
        assert fl is not None
        busy.add((r.eni, r.end - r.end % fl.interval))
    for eni in sorted(ENIS):
        fl = flow_log_of(eni)
        if fl is None:
            continue
        for ws in range(day.t0, day.t0 + DAY_SECONDS, fl.interval):
            if (eni, ws) in busy:
                continue
            status = "SKIPDATA" if (eni, ws) == (skip_eni, skip_ws) else "NODATA"
            end = ws + fl.interval - 1 - day.rng.randint(0, 3)
            day.records.append(Rec(eni, "", "", None, None, None, None, None, ws, end, None, None, status))


def generate(t0: int, seed: int) -> list[Rec]:
    day = Day(t0, random.Random(seed))
    _CLIENTS.clear()
    for part in (web, health_checks, database, s3, ssh, pings, scrapes, scanners, batch_rejects):
        part(day)
    day.records = [r for r in day.records if t0 <= r.end < t0 + DAY_SECONDS and _logged(r)]
    status_rows(day)
    return day.records


def _logged(r: Rec) -> bool:
    fl = flow_log_of(r.eni)
    return fl is not None and (fl.traffic_type == "ALL" or fl.traffic_type == r.action)


__all__ = ["DNS_RESOLVER", "SUBNETS", "Rec", "generate", "is_private", "traffic_path"]
