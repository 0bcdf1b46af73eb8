"""The DuckDB catalog: one view per table of docs/tables.md over the data directory's Parquet.

``catalog.duckdb`` holds only views (absolute paths, globs evaluated at query time), so any
DuckDB client can open it from any directory. :func:`register_views` puts the same views on
any connection, which is how the analysis points ``sg_rules`` & co. at the snapshot chosen for
its window. The tables and their sources are :mod:`flowlens.model.tables`. A catalog written
for a data directory that has since moved is rewritten by :func:`connect` and by every command
that writes (``flowlens catalog --refresh`` does it on demand).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError
from flowlens.lake import register_duckdb
from flowlens.model.tables import catalog_sources, duckdb_select, sql_str
from flowlens.sqlguard import confine

log = logging.getLogger(__name__)

#: The results (and state) views that carry ``account_id`` the catalog adds, and the column whose
#: id says whose row it is: a rule's, a group's or a finding's group (else the ENI, subnet or
#: group the finding is about), a conversation's ENI. ``rejected`` has the flow record's own.
ACCOUNT_KEYS: Mapping[str, str] = {
    "conversations": "base.eni_id",
    "rule_matches": "base.group_id",
    "rule_usage": "base.group_id",
    "findings": "COALESCE(base.group_id, base.resource_id)",
    "rule_shadows": "base.group_id",
    "rule_history": "base.group_id",
    "recommendations": "base.group_id",
    "dismissals": "base.group_id",
}

#: The inventory tables whose ids the account lookup knows, with their id column: over every
#: snapshot, so a result about a group or ENI gone since still names its account.
_OWNED: Mapping[str, str] = {
    "security_groups": "group_id",
    "enis": "eni_id",
    "subnets": "subnet_id",
}

#: Tables an account's view leaves whole (``account``): what rules of the account refer to in
#: other accounts (a peer group's members and addresses, a shared prefix list, a RAM-shared
#: subnet or VPC) must still resolve, and a plan is verified as the organisation's.
UNSCOPED: frozenset[str] = frozenset(
    {"vpcs", "subnets", "eni_groups", "eni_ips", "prefix_lists", "prefix_list_entries"}
    | {"plan_verifications"}
)

#: The account an ingested object's key names (``AWSLogs/[aws-account-id=]<id>/``), "" when none.
_KEY_ACCOUNT = "regexp_extract(source_key, '(^|/)AWSLogs/(aws-account-id=)?([0-9]{12})/', 3)"


def register_views(
    con: duckdb.DuckDBPyConnection,
    dd: DataDir,
    *,
    snapshot: str | None = None,
    account: str | None = None,
    accounts: bool = True,
) -> None:
    """Create every catalog view on ``con``; inventory views read ``snapshot`` (default: latest).

    ``accounts=False``: the results views without the ``account_id`` lookup, for the pipelines
    that never read it (recommend, verify, explain scan whole windows of conversations, and
    DuckDB keeps the lookup's join in every scan even when no column of it is read).

    ``account``: the views of one AWS account (its report): every view with ``account_id`` keeps
    that account's rows, ingest accounting the objects whose key names it (or no account), the
    lookups of :data:`UNSCOPED` stay whole.
    """
    if dd.lake:
        from flowlens.lake_dir import stage_inventory

        stage_inventory(dd)
    stamps = dd.snapshots()
    chosen = snapshot or (stamps[-1] if stamps else None)
    looked_up = accounts or account is not None
    owners = owners_select(dd, stamps) if looked_up else ""
    for source in catalog_sources(dd, chosen):
        body = duckdb_select(source) if source.remote is None else register_duckdb(con, source)
        if source.name in ACCOUNT_KEYS and looked_up:
            body = (
                f"SELECT base.*, owners.account_id FROM ({body}) AS base "
                f"LEFT JOIN ({owners}) AS owners ON owners.id = {ACCOUNT_KEYS[source.name]}"
            )
        if account is not None:
            body = _scoped(source.name, source.full_schema().names, body, account)
        con.execute(f"CREATE OR REPLACE VIEW {source.name} AS {body}")


def _scoped(name: str, columns: Sequence[str], body: str, account: str) -> str:
    """``body`` reduced to ``account``'s rows (see :func:`register_views`)."""
    if name in UNSCOPED:
        return body
    if name in ACCOUNT_KEYS or "account_id" in columns:
        # an inventory row without account_id (a snapshot older than accounts) by its owner
        owner = next((c for c in ("owner_id", "group_owner_id") if c in columns), None)
        whose = f"COALESCE(account_id, {owner})" if owner else "account_id"
        return f"SELECT * FROM ({body}) WHERE {whose} = {sql_str(account)}"
    if "source_key" in columns:
        return f"SELECT * FROM ({body}) WHERE {_KEY_ACCOUNT} IN ('', {sql_str(account)})"
    return body


def _distinct_files(paths: Iterable[Path]) -> list[Path]:
    """The existing files among ``paths``, each file once: a snapshot's table unchanged since
    the previous snapshot is a hard link to it (hourly snapshots would otherwise be read
    hundreds of times per query)."""
    seen: set[tuple[int, int]] = set()
    out = []
    for path in paths:
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            out.append(path)
    return out


def owners_select(dd: DataDir, stamps: Sequence[str]) -> str:
    """``(id, account_id)`` of every group, ENI and subnet of every snapshot in ``stamps``.

    The account is the row's ``account_id``, else (a snapshot older than accounts) its
    ``owner_id``; an id no snapshot places in an account has no row.
    """
    parts = []
    for table, key in _OWNED.items():
        files = _distinct_files(dd.snapshot_dir(s) / f"{table}.parquet" for s in stamps)
        present = set().union(*(pq.read_schema(p).names for p in files)) if files else set()
        owner = [c for c in ("account_id", "owner_id") if c in present]
        if not files or key not in present or not owner:
            continue
        listed = ", ".join(sql_str(p.absolute()) for p in files)
        parts.append(
            f"SELECT {key} AS id, COALESCE({', '.join(owner)}, NULL) AS account_id "
            f"FROM read_parquet([{listed}], union_by_name = true)"
        )
    if not parts:
        return "SELECT CAST(NULL AS VARCHAR) AS id, CAST(NULL AS VARCHAR) AS account_id WHERE false"
    union = " UNION ALL ".join(parts)
    return (
        f"SELECT id, MIN(account_id) AS account_id FROM ({union}) "
        "WHERE account_id IS NOT NULL GROUP BY id"
    )


def refresh_catalog(dd: DataDir) -> Path:
    """(Re)write ``catalog.duckdb`` so its views match the files now present, wherever they are.

    The new catalog is built under a hidden temp name and renamed over the old one: a reader with
    the old catalog open (``flowlens sql``, a notebook on :func:`connect`) keeps reading it, the
    writer never waits for it or fails because of it, and a kill at any point leaves either the old
    catalog or the new one, never one without its views.

    Results kept apart from the data directory (``--results-location``) or a data directory in
    S3 have no stored catalog (its views could not name a location given per command, nor an S3
    dataset): :func:`connect` builds their views in memory; nothing is written.
    """
    if dd.results_apart:
        log.debug("results at %s: no stored catalog", dd.results_description())
        return dd.catalog
    dd.root.mkdir(parents=True, exist_ok=True)
    tmp = dd.root / f".{dd.catalog.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        con = duckdb.connect(str(tmp))
        try:
            # One transaction: each statement on its own would commit (and sync) the file, ~40
            # disk syncs for a file nobody reads until the rename below.
            con.execute("BEGIN TRANSACTION")
            register_views(con, dd)
            # Each view's comment names the data directory it reads: how connect() sees a moved one.
            for source in catalog_sources(dd, None):
                con.execute(f"COMMENT ON VIEW {source.name} IS {sql_str(data_dir_path(dd))}")
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        # A WAL beside the catalog belongs to the file being replaced (a writer of an older flowlens
        # killed mid-write): DuckDB would replay it onto the new one.
        wal = dd.catalog.with_name(dd.catalog.name + ".wal")
        wal.unlink(missing_ok=True)
        os.replace(tmp, dd.catalog)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    log.debug("catalog refreshed at %s", dd.catalog)
    return dd.catalog


def _open(dd: DataDir, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """The catalog file as it is on disk now, on a database instance of its own.

    ``duckdb.connect(path)`` returns the instance DuckDB has cached for that path while any
    connection to it is open: a catalog replaced since (every refresh renames a new file over it)
    would be the old one, and its configuration already locked by :func:`confine`. A fresh
    in-memory database that attaches the file, as the default database, is never shared.
    """
    con = duckdb.connect(":memory:")
    mode = " (READ_ONLY)" if read_only else ""
    try:
        con.execute(f"ATTACH {sql_str(str(dd.catalog))} AS {_ALIAS}{mode}")
        con.execute(f"USE {_ALIAS}")
    except duckdb.Error as exc:
        con.close()
        if isinstance(exc, duckdb.ResourceInUseException):
            raise AnalysisError(
                f"{dd.catalog} is open for writing by another connection of this process "
                "(flowlens.connect(read_only=False)); close that one first"
            ) from exc
        raise
    return con


#: The name the attached catalog goes by in SQL: its file's, as when DuckDB opens it directly.
_ALIAS = "catalog"


def catalog_root(dd: DataDir) -> str | None:
    """The data directory the existing catalog's views read (None: no catalog, or
    one older than the record)."""
    if not dd.catalog.exists():
        return None
    con = _open(dd, read_only=True)
    try:
        row = con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'flows'").fetchone()
    finally:
        con.close()
    return None if row is None or row[0] is None else str(row[0])


def connect(dd: DataDir, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the catalog, (re)writing it first when missing or made for another location.

    The rewrite is :func:`refresh_catalog`'s atomic replace, so it never disturbs a writer or
    another reader. When the data directory cannot be written (a read-only mount, a copy owned by
    someone else), the views are made on an in-memory connection instead, and
    nothing on disk changes.

    The connection is confined to the data dir (:func:`flowlens.sqlguard.confine`): read-only
    connections cannot change the catalog, and no connection can read or write a file outside
    the data directory, load an extension or change a setting. Each call opens the catalog file
    as it is now (:func:`_open`): a second call in the same process, with the first still open,
    sees what a refresh has written since.
    """
    if dd.results_apart:
        con = duckdb.connect(":memory:")
        register_views(con, dd)
        confine(con, dd.root, also=() if dd.results_s3 else (dd.results,))
        return con
    if not dd.catalog.exists() and not dd.root.exists():
        raise AnalysisError(
            f"no flowlens data directory at {dd.root}; run 'flowlens ingest' "
            "first or pass --data-dir"
        )
    if catalog_root(dd) != data_dir_path(dd):
        log.info(
            "catalog %s was made for another location of the data directory; rewriting its views",
            dd.catalog,
        )
        try:
            refresh_catalog(dd)
        except (OSError, duckdb.Error) as exc:
            log.warning(
                "cannot rewrite %s (%s); using the views in memory for this connection",
                dd.catalog,
                exc,
            )
            con = duckdb.connect(":memory:")
            register_views(con, dd)
            confine(con, dd.root)
            return con
    con = _open(dd, read_only=read_only)
    confine(con, dd.root)
    return con


def data_dir_path(dd: DataDir) -> str:
    """The data directory as the catalog's views name it: absolute."""
    return str(dd.root.absolute())
