"""The observed flows in DuckDB: per-rule matches and the replay proof as set-based SQL.

Same answers as :class:`flowlens.recommend.observations.PyObservations` (a hypothesis test
checks the replay cut sets are identical), without loading every observed tuple into Python:

* ``rec_obs``: the observed tuples with their peer's addr key and family, their time, whether an
  inventory places their ENI, and the holder whose pieces of time judge them;
* ``rec_pieces`` / ``rec_piece_groups``: the pieces of time of every ENI (and of every VPC, for
  unattributed tuples) with the groups possibly held and whether certainly
  (:func:`flowlens.recommend.history.all_pieces`); ``rec_keys``: tuple x overlapping piece;
* ``rec_spec`` / ``rec_ranges``: the current rules, each peer as key ranges (a CIDR; a prefix
  list's entries; the member addresses and delegated prefixes an SG ever had in the window),
  ``rec_member_spans``: when each SG member belonged, built here from the same
  :class:`Inventory` the Python replay uses;
* ``rec_piece_match``: (tuple, piece, group, current rule that allows it then), computed once;
  ``rec_match``: its attributed (tuple, rule) pairs, what narrowing and evidence read;
* a replay registers the changed rule ids and the replacement rules and finds, in SQL, the
  pieces where a group that allows a tuple now would not, and no certainly-held group still does.

Both matches are the analysis's rule-match join (``sql/shared/keys_allowed.sql``), its input
tables named for the tables staged here (:func:`_allowed_view`), followed by the time filter of
SG-reference members (``allowed_at_time.sql``).

Python then loads, per rule, only what narrowing needs (``sql/recommend/rule_peers.sql``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, cast

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from flowlens import arrays, sqlfiles
from flowlens.engines.transpile import rename_tables
from flowlens.lake import cursor
from flowlens.model.addr import addr_key, cidr_range
from flowlens.model.net import PeerType
from flowlens.recommend.history import History, all_pieces, static_history
from flowlens.recommend.inputs import Inventory, Observed, SgRule
from flowlens.recommend.observations import Matched, RuleStats
from flowlens.recommend.replay import Changes, Cut, ReplayResult
from flowlens.recommend.rules import Flow, PeerContext, Rule

log = logging.getLogger(__name__)

S, I32 = pa.string(), pa.int32()
SPEC_SCHEMA = pa.schema(
    [
        ("rule_id", S),
        ("group_id", S),
        ("rule_direction", S),
        ("ip_protocol", I32),
        ("port_lo", I32),
        ("port_hi", I32),
    ]
)
RANGES_SCHEMA = pa.schema(
    [("rule_id", S), ("family", pa.int8()), ("lo", S), ("hi", S), ("matched_via", S)]
)
KEYS_SCHEMA = pa.schema([("addr", S), ("family", pa.int8()), ("key", S)])
TS = pa.timestamp("us", tz="UTC")
SPANS_SCHEMA = pa.schema(
    [
        ("rule_id", S),
        ("family", pa.int8()),
        ("lo", S),
        ("hi", S),
        ("valid_from", TS),
        ("valid_to", TS),
        ("certain", pa.bool_()),
    ]
)
OBS_SCHEMA = pa.schema(
    [
        ("eni_id", S),
        ("rule_direction", S),
        ("protocol", I32),
        ("peer_addr", S),
        ("port", I32),
        ("flows", pa.int64()),
        ("connections", pa.int64()),
        ("first_seen", TS),
        ("last_seen", TS),
        ("unattributed", pa.bool_()),
        ("vpc_id", S),
    ]
)
PIECES_SCHEMA = pa.schema(
    [("piece_id", pa.int64()), ("holder", S), ("piece_from", TS), ("piece_to", TS)]
)
PIECE_GROUPS_SCHEMA = pa.schema(
    [("piece_id", pa.int64()), ("group_id", S), ("certain", pa.bool_())]
)
_BATCH = 100_000


def _run(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = sqlfiles.execute(
        con, sqlfiles.load("recommend", name), params
    ).fetchall()
    return rows


def _create(
    con: duckdb.DuckDBPyConnection,
    table: str,
    name: str,
    params: dict[str, Any] | None = None,
    *,
    tables: dict[str, str] | None = None,
) -> None:
    """Table ``table`` from ``sql/recommend/<name>.sql``, its input tables renamed by ``tables``."""
    query = _renamed(sqlfiles.load("recommend", name), tables)
    sqlfiles.execute(con, query, params, create=f"CREATE OR REPLACE TABLE {table}")


def _renamed(query: sqlfiles.Query, tables: dict[str, str] | None) -> sqlfiles.Query:
    """``query`` reading the tables ``tables`` maps its table names to (the
    same file, path and params)."""
    if not tables:
        return query
    tree = cast(exp.Expression, sqlglot.parse_one(query.sql, read="duckdb"))
    return replace(query, sql=rename_tables(tree, tables).sql(dialect="duckdb"))


def _allowed_view(
    con: duckdb.DuckDBPyConnection, view: str, keys: str, rules: str, peers: str
) -> None:
    """View ``view``: the rule-match join of the analysis (``sql/shared/keys_allowed.sql``) over the
    tuples ``keys`` (``rec_keys``: tuple x piece), the rules by piece ``rules`` (``rules_by_piece``)
    and their peer ranges ``peers``; read once by the query that follows, so it is not stored."""
    query = _renamed(
        sqlfiles.load("shared", "keys_allowed"),
        {"match_keys": keys, "match_rules": rules, "match_peers": peers},
    )
    sqlfiles.execute(con, query, create=f"CREATE OR REPLACE TEMP VIEW {view}")


def _put(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    con.register("rec_arrow_in", data)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM rec_arrow_in")
    con.unregister("rec_arrow_in")


def peer_ranges(
    rule: Rule, ctx: PeerContext, history: History | None = None
) -> list[tuple[int, str, str]]:
    """(family, lo key, hi key) of every address range the rule's peer stands for.

    An SG reference stands for every member address (or delegated prefix) the group had at any
    time of ``history`` (default: the snapshot's members); :func:`member_spans` says when.
    """
    if rule.peer_type.is_cidr:
        cidrs: Iterable[str] = (rule.peer,)
    elif rule.peer_type is PeerType.PREFIX_LIST:
        cidrs = ctx.prefix_lists.get(rule.peer, ())
    elif rule.peer_type is PeerType.SG:
        return sorted({(fam, lo, hi) for fam, lo, hi, *_ in member_spans(rule, ctx, history)})
    else:
        return []
    return [(r.family, r.lo, r.hi) for r in map(cidr_range, cidrs)]


def member_spans(
    rule: Rule, ctx: PeerContext, history: History | None
) -> list[tuple[int, str, str, Any, Any, bool]]:
    """(family, lo, hi, valid_from, valid_to, certain) of each member of the
    SG a reference rule names."""
    if rule.peer_type is not PeerType.SG:
        return []
    if history is None:
        history = static_history({}, {}, ctx.sg_members, ctx.sg_member_prefixes)
    out = []
    for m in history.members.get(rule.peer, ()):
        r = cidr_range(m.address)
        out.append((r.family, r.lo, r.hi, m.valid_from, m.valid_to, m.certain))
    return out


def rule_tables(
    rules: Iterable[tuple[str, str, Rule]], ctx: PeerContext, history: History | None = None
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Spec, ranges and member-spans tables of (rule id, group id, rule) triples."""
    spec: dict[str, list[Any]] = {f.name: [] for f in SPEC_SCHEMA}
    ranges: dict[str, list[Any]] = {f.name: [] for f in RANGES_SCHEMA}
    spans: dict[str, list[Any]] = {f.name: [] for f in SPANS_SCHEMA}
    for rule_id, group_id, rule in rules:
        ports = rule.port_range()
        for k, v in zip(
            spec,
            (
                rule_id,
                group_id,
                rule.direction,
                rule.ip_protocol,
                ports[0] if ports else None,
                ports[1] if ports else None,
            ),
            strict=True,
        ):
            spec[k].append(v)
        via = "cidr" if rule.peer_type.is_cidr else str(rule.peer_type)
        for fam, lo, hi in peer_ranges(rule, ctx, history):
            for key, val in zip(ranges, (rule_id, fam, lo, hi, via), strict=True):
                ranges[key].append(val)
        for span in member_spans(rule, ctx, history):
            for key, val in zip(spans, (rule_id, *span), strict=True):
                spans[key].append(val)
    return (
        arrays.table(spec, schema=SPEC_SCHEMA),
        arrays.table(ranges, schema=RANGES_SCHEMA),
        arrays.table(spans, schema=SPANS_SCHEMA),
    )


def _keys(addrs: Iterable[str]) -> pa.Table:
    rows: dict[str, list[Any]] = {"addr": [], "family": [], "key": []}
    for a in addrs:
        try:
            r = cidr_range(a)
        except ValueError:
            continue
        if "/" in a:
            continue
        rows["addr"].append(a)
        rows["family"].append(r.family)
        rows["key"].append(addr_key(a))
    return arrays.table(rows, schema=KEYS_SCHEMA)


def _stage_keys(con: duckdb.DuckDBPyConnection, batches: Iterator[list[str]]) -> None:
    con.execute("CREATE OR REPLACE TABLE rec_addr_keys (addr VARCHAR, family TINYINT, key VARCHAR)")
    for addrs in batches:
        con.register("rec_arrow_in", _keys(addrs))
        con.execute("INSERT INTO rec_addr_keys SELECT * FROM rec_arrow_in")
        con.unregister("rec_arrow_in")


def _pieces_tables(history: History) -> tuple[pa.Table, pa.Table]:
    """The pieces of time of every holder, and the groups of each
    (possibly held; certain or not)."""
    pieces: dict[str, list[Any]] = {f.name: [] for f in PIECES_SCHEMA}
    groups: dict[str, list[Any]] = {f.name: [] for f in PIECE_GROUPS_SCHEMA}
    for n, p in enumerate(all_pieces(history)):
        for k, v in zip(pieces, (n, p.holder, p.start, p.end), strict=True):
            pieces[k].append(v)
        for g in sorted(p.possible):
            for k, v in zip(groups, (n, g, g in p.certain), strict=True):
                groups[k].append(v)
    pieces_table = arrays.table(pieces, schema=PIECES_SCHEMA)
    return pieces_table, arrays.table(groups, schema=PIECE_GROUPS_SCHEMA)


class SqlObservations:
    """Observed flows staged in DuckDB; the questions of the planner answered in SQL."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        inv: Inventory,
        max_peers: int = 20_000,
        per_block: int = 64,
    ) -> None:
        self.con, self.inv = con, inv
        self.rules = {r.rule_id: r for r in inv.rules}
        self.history = inv.timeline()
        pieces, piece_groups = _pieces_tables(self.history)
        _put(con, "rec_pieces", pieces)
        _put(con, "rec_piece_groups", piece_groups)
        spec, ranges, spans = rule_tables(
            ((r.rule_id, r.group_id, r.rule) for r in inv.rules), inv.ctx, self.history
        )
        _put(con, "rec_spec", spec)
        _put(con, "rec_ranges", ranges)
        _put(con, "rec_member_spans", spans)
        _create(con, "rec_keys", "observed_pieces")
        _create(con, "rec_rules", "rules_by_piece")
        _allowed_view(con, "rec_allowed", keys="rec_keys", rules="rec_rules", peers="rec_ranges")
        _create(con, "rec_piece_match", "allowed_at_time")
        _create(con, "rec_match", "match_current")
        self._loaded: dict[str, Matched] | None = None
        self._totals_once: tuple[int, int, int, int, int] | None = None
        self.max_peers, self.per_block = max_peers, per_block

    @classmethod
    def from_catalog(
        cls, con: duckdb.DuckDBPyConnection, inv: Inventory, first: date, last: date, **kw: int
    ) -> SqlObservations:
        """Stage the window's accepted initiating conversations of the
        catalog (views on ``con``)."""
        params = {"first_day": first, "last_day": last}
        reader = cursor(con)  # the catalog's views may read S3 datasets registered on con
        res = sqlfiles.execute(reader, sqlfiles.load("recommend", "observed_addresses"), params)

        def batches() -> Iterator[list[str]]:
            while rows := res.fetchmany(_BATCH):
                yield [r[0] for r in rows]

        _stage_keys(con, batches())
        reader.close()
        if first == last:  # one row per connection already: no merging of a connection's days
            _create(con, "rec_observed", "observed_day", {"day": first})
        else:
            _create(con, "rec_observed", "observed_window", params)
        _create(con, "rec_obs", "observed_keyed")
        con.execute("DROP TABLE rec_observed")
        return cls(con, inv, **kw)

    @classmethod
    def from_rows(
        cls, con: duckdb.DuckDBPyConnection, inv: Inventory, observed: Sequence[Observed], **kw: int
    ) -> SqlObservations:
        """Stage observed flows given as values (tests, equivalence with the Python replay)."""
        cols: dict[str, list[Any]] = {f.name: [] for f in OBS_SCHEMA}
        for ob in observed:
            for k, v in zip(
                cols,
                (
                    ob.eni_id,
                    ob.flow.direction,
                    ob.flow.protocol,
                    ob.flow.peer_addr,
                    ob.flow.port,
                    ob.flows,
                    ob.connections,
                    ob.first_seen,
                    ob.last_seen,
                    ob.unattributed,
                    ob.vpc_id,
                ),
                strict=True,
            ):
                cols[k].append(v)
        _put(con, "rec_observed", arrays.table(cols, schema=OBS_SCHEMA))
        _stage_keys(con, iter([sorted(set(cols["peer_addr"]))]))
        _create(con, "rec_obs", "observed_keyed")
        return cls(con, inv, **kw)

    def _observed(self, obs_id: int) -> Observed:
        row = self.con.execute(
            "SELECT eni_id, rule_direction, protocol, peer_addr, port, flows, connections, "
            "first_seen, last_seen, unattributed, vpc_id FROM rec_obs WHERE obs_id = $id",
            {"id": obs_id},
        ).fetchall()[0]
        return Observed(
            row[0],
            Flow(row[1], int(row[2]), row[3], row[4]),
            int(row[5]),
            int(row[6]),
            row[7],
            row[8],
            bool(row[9]),
            row[10],
        )

    def replay(self, changes: Changes, scope: SgRule | None = None) -> ReplayResult:
        by_id = {r.rule_id: r for r in self.inv.rules}
        changed = pa.Table.from_arrays([arrays.column(sorted(changes), S)], names=["rule_id"])
        _put(self.con, "rec_changed", changed)
        new = (
            (f"{rid}#{i}", by_id[rid].group_id, rule)
            for rid in sorted(changes)
            if rid in by_id
            for i, rule in enumerate(changes[rid])
        )
        spec, ranges, spans = rule_tables(new, self.inv.ctx, self.history)
        _put(self.con, "rec_new_spec", spec)
        _put(self.con, "rec_new_ranges", ranges)
        _put(self.con, "rec_new_member_spans", spans)
        _create(self.con, "rec_new_rules", "rules_by_piece", tables={"rec_spec": "rec_new_spec"})
        _create(self.con, "rec_replay_groups", "replay_groups")
        _create(
            self.con,
            "rec_at_risk",
            "replay_at_risk",
            {"scope_rule": scope.rule_id if scope else None},
        )
        _allowed_view(
            self.con,
            "rec_rescued",
            keys="rec_at_risk",
            rules="rec_new_rules",
            peers="rec_new_ranges",
        )
        _create(
            self.con,
            "rec_rescued_at_time",
            "allowed_at_time",
            tables={"rec_allowed": "rec_rescued", "rec_member_spans": "rec_new_member_spans"},
        )
        _create(self.con, "rec_cut", "replay_cut")
        cut = _run(self.con, "replay_cut_flows")[0][0]
        cuts = {
            str(rid): Cut(int(f), int(c), self._observed(int(ex)))
            for rid, f, c, ex in _run(self.con, "replay_blame")
        }
        checked, conns, not_now, unattributed, protected = self._totals()
        return ReplayResult(checked, conns, int(cut), not_now, cuts, unattributed, protected)

    def _totals(self) -> tuple[int, int, int, int, int]:
        """What the current rules allow of the observed tuples: the same for every replay (it reads
        no change), so counted once."""
        if self._totals_once is None:
            row = _run(self.con, "replay_totals")[0]
            self._totals_once = (
                int(row[0] or 0),
                int(row[1] or 0),
                int(row[2] or 0),
                int(row[3] or 0),
                int(row[4] or 0),
            )
        return self._totals_once

    def _load(self) -> dict[str, Matched]:
        stats = {str(r[0]): r[1:] for r in _run(self.con, "rule_stats")}
        flows: dict[str, list[Observed]] = {}
        truncated: dict[str, set[tuple[int, int | None]]] = {}
        rows = _run(
            self.con, "rule_peers", {"max_peers": self.max_peers, "per_block": self.per_block}
        )
        directions = {rid: r.rule.direction for rid, r in self.rules.items()}
        for rid, proto, port, peer, f, c, first, last, trunc in rows:
            flows.setdefault(rid, []).append(
                Observed("*", Flow(directions[rid], proto, peer, port), f, c, first, last)
            )
            if trunc:
                truncated.setdefault(rid, set()).add((proto, port))
        out = {}
        for rid, fl in flows.items():
            s = stats[rid]
            peers = sorted({ob.flow.peer_addr for ob in fl})
            rs = RuleStats(
                int(s[0]),
                int(s[1]),
                int(s[2]),
                int(s[3]),
                tuple(sorted({ob.flow.protocol for ob in fl})),
                tuple(peers[:10]),
                s[4],
                s[5],
            )
            out[rid] = Matched(fl, rs, frozenset(truncated.get(rid, ())))
        log.info(
            "rule peers loaded: %d rows for %d rules (%d truncated)",
            len(rows),
            len(out),
            len(truncated),
        )
        return out

    def matched(self, r: SgRule) -> Matched:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded.get(r.rule_id, Matched((), RuleStats()))
