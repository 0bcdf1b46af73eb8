"""Data in S3: a data directory or a results location ``s3://bucket/prefix``, read and written
through pyarrow's S3 filesystem (docs/engines.md, "Data in S3").

DuckDB's own route to S3 is its ``httpfs`` extension; the wheel does not bundle it and installing
it needs the network, so flowlens reads S3 with ``pyarrow.fs.S3FileSystem`` (in the pyarrow
wheel) and hands DuckDB ``pyarrow.dataset`` objects: DuckDB pushes its filters and projections
into the dataset scan, and a ``date = $day`` filter on the hive partition prunes every other
day's files before any is opened.

The layout in S3 is the lake layout of :func:`flowlens.engines.ddl.lake_key`: ``flows/`` and
``tgw_flows/`` as in a local data dir, ``inventory/<table>/snapshot=<stamp>/<table>.parquet``
and ``results/<table>/date=<D>/<table>.parquet`` (a results day may hold several files when
Athena wrote it). Credentials come from boto3's chain (``--profile``, environment, SSO, instance
roles), the endpoint from ``--endpoint-url``/``$AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import functools
import logging
import os
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowlens.aws import AwsOptions
from flowlens.errors import AwsAccessError, FlowlensError, InputError, UsageError

if TYPE_CHECKING:
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

log = logging.getLogger(__name__)

S3_SCHEME = "s3://"


def is_s3(location: str | os.PathLike[str] | None) -> bool:
    """Whether ``location`` names S3 (``s3://``)."""
    return location is not None and str(location).startswith(S3_SCHEME)


@dataclass(frozen=True)
class S3Path:
    """An S3 location: a bucket and a key (no leading or trailing ``/``)."""

    bucket: str
    key: str = ""

    @classmethod
    def parse(cls, uri: str) -> S3Path:
        """``s3://bucket[/key]``; anything else is a UsageError naming it."""
        if not is_s3(uri):
            raise UsageError(f"{uri!r} is not an s3://bucket/prefix URI")
        bucket, _, key = uri[len(S3_SCHEME) :].partition("/")
        if not bucket or "//" in key:
            raise UsageError(f"{uri!r} is not an s3://bucket/prefix URI")
        return cls(bucket, key.strip("/"))

    @property
    def uri(self) -> str:
        return f"{S3_SCHEME}{self.fs_path}"

    @property
    def fs_path(self) -> str:
        """The path pyarrow's S3 filesystem names it by: ``bucket/key``."""
        return f"{self.bucket}/{self.key}" if self.key else self.bucket

    def child(self, *parts: str) -> S3Path:
        key = "/".join(p.strip("/") for p in (self.key, *parts) if p.strip("/"))
        return S3Path(self.bucket, key)

    def relative(self, fs_path: str) -> str:
        """``fs_path`` (``bucket/key/...``) relative to this location."""
        return fs_path[len(self.fs_path) :].lstrip("/")


@dataclass(frozen=True)
class S3Root:
    """Where an input table sits in S3, and how to reach it."""

    path: S3Path
    aws: AwsOptions = field(default_factory=AwsOptions)
    #: how the data files' names end ("": any name; Athena's CTAS files have no extension)
    suffix: str = ".parquet"


@functools.lru_cache(maxsize=8)
def filesystem(aws: AwsOptions) -> pafs.S3FileSystem:
    """pyarrow's S3 filesystem with boto3's credentials and region for ``aws`` (one per options).

    The credentials are resolved once, by boto3 (profiles, SSO, assumed roles, instance
    metadata), and given to pyarrow as they are: a run longer than temporary credentials last
    needs credentials that do not expire in between.
    """
    import pyarrow.fs as pafs
    from botocore.exceptions import BotoCoreError

    from flowlens.aws import access_error, session

    sess = session(aws)
    try:
        creds = sess.get_credentials()
    except BotoCoreError as exc:
        raise access_error(exc) from None
    if creds is None:
        raise AwsAccessError(
            "no AWS credentials to read S3 with: set --profile, AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or run where an instance role applies)"
        )
    frozen = creds.get_frozen_credentials()
    options: dict[str, Any] = {
        "access_key": frozen.access_key,
        "secret_key": frozen.secret_key,
        "session_token": frozen.token,
        "region": aws.region or sess.region_name or "us-east-1",
    }
    if aws.endpoint:
        options["endpoint_override"] = aws.endpoint
        if aws.endpoint.startswith("http://"):
            options["scheme"] = "http"
    return pafs.S3FileSystem(**options)


def s3_error(exc: OSError, uri: str, doing: str = "read") -> FlowlensError:
    """A pyarrow S3 failure as flowlens's error naming ``uri``: denied access is exit 3, a
    missing bucket or key bad input."""
    text = str(exc)
    if any(w in text for w in ("ACCESS_DENIED", "AccessDenied", "Forbidden", "403")):
        return AwsAccessError(
            f"cannot {doing} {uri}: access denied ({text.strip()}); check the credentials "
            "(--profile) and the bucket policy"
        )
    if isinstance(exc, FileNotFoundError) or any(
        w in text for w in ("NoSuchBucket", "NoSuchKey", "does not exist", "404")
    ):
        return InputError(f"cannot {doing} {uri}: no such bucket or key ({text.strip()})")
    return AwsAccessError(f"cannot {doing} {uri}: {text.strip()}")


def check_bucket(root: S3Root) -> None:
    """InputError naming ``root`` when its bucket does not exist (a listing of a missing bucket
    would otherwise read as an empty data directory)."""
    import pyarrow.fs as pafs

    try:
        info = filesystem(root.aws).get_file_info(root.path.bucket)
    except OSError as exc:
        raise s3_error(exc, root.path.uri) from exc
    if info.type == pafs.FileType.NotFound:
        raise InputError(f"cannot read {root.path.uri}: no bucket {root.path.bucket!r}")


def _file_infos(root: S3Root) -> list[Any]:
    """Every object under ``root`` (pyarrow FileInfo), recursively; [] when none."""
    import pyarrow.fs as pafs

    fs = filesystem(root.aws)
    selector = pafs.FileSelector(root.path.fs_path, recursive=True, allow_not_found=True)
    try:
        return list(fs.get_file_info(selector))
    except OSError as exc:
        raise s3_error(exc, root.path.uri, "list") from exc


def list_files(root: S3Root) -> list[str]:
    """The ``bucket/key`` paths of the files under ``root`` ending in its ``suffix`` (hidden
    ones, ``.`` or ``_`` first, left out as pyarrow's datasets leave them out: Spark's
    ``_SUCCESS``, ``.crc``); [] when none."""
    import pyarrow.fs as pafs

    infos = _file_infos(root)
    return sorted(
        i.path
        for i in infos
        if i.type == pafs.FileType.File
        and i.path.endswith(root.suffix)
        and not any(part[:1] in "._" for part in root.path.relative(i.path).split("/"))
    )


def exists(root: S3Root) -> bool:
    """Whether the object ``root`` names exists."""
    import pyarrow.fs as pafs

    try:
        info = filesystem(root.aws).get_file_info(root.path.fs_path)
    except OSError as exc:
        raise s3_error(exc, root.path.uri) from exc
    return bool(info.type == pafs.FileType.File)


def dataset(
    root: S3Root, schema: Any, partitions: dict[str, Any], *, single_file: bool = False
) -> ds.Dataset | None:
    """The Parquet under ``root`` as one dataset with ``schema`` (file columns then hive
    partitions), or None when there is no file. Files lacking a column read it as null, as
    DuckDB's ``union_by_name`` does locally."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    fs = filesystem(root.aws)
    files = ([root.path.fs_path] if exists(root) else []) if single_file else list_files(root)
    if not files:
        return None
    try:
        if single_file:
            return ds.dataset(files, filesystem=fs, format="parquet", schema=schema)
        part = ds.partitioning(
            pa.schema([pa.field(n, t) for n, t in partitions.items()]), flavor="hive"
        )
        return ds.dataset(
            files,
            filesystem=fs,
            format="parquet",
            schema=schema,
            partitioning=part,
            partition_base_dir=root.path.fs_path,
        )
    except OSError as exc:
        raise s3_error(exc, root.path.uri) from exc


def upload(local: Path, target: S3Root) -> None:
    """Copy one local file to ``target`` (one PUT or multipart upload: all or nothing)."""
    import pyarrow.fs as pafs

    try:
        pafs.copy_files(
            str(local.absolute()),
            target.path.fs_path,
            source_filesystem=pafs.LocalFileSystem(),
            destination_filesystem=filesystem(target.aws),
        )
    except OSError as exc:
        raise s3_error(exc, target.path.uri, "write") from exc


def download(source: S3Root, local: Path) -> None:
    """Copy one object to ``local``, atomically (a hidden temp name renamed into place)."""
    import pyarrow.fs as pafs

    local.parent.mkdir(parents=True, exist_ok=True)
    tmp = local.with_name(f".{local.name}.download")
    try:
        pafs.copy_files(
            source.path.fs_path,
            str(tmp.absolute()),
            source_filesystem=filesystem(source.aws),
            destination_filesystem=pafs.LocalFileSystem(),
        )
        os.replace(tmp, local)
    except OSError as exc:
        raise s3_error(exc, source.path.uri) from exc
    finally:
        tmp.unlink(missing_ok=True)


def delete_under(root: S3Root) -> int:
    """Delete every object under the prefix ``root`` (a results day being replaced)."""
    import pyarrow.fs as pafs

    fs = filesystem(root.aws)
    selector = pafs.FileSelector(root.path.fs_path, recursive=True, allow_not_found=True)
    try:
        files = [i.path for i in fs.get_file_info(selector) if i.type == pafs.FileType.File]
        for path in files:
            fs.delete_file(path)
    except OSError as exc:
        raise s3_error(exc, root.path.uri, "delete under") from exc
    return len(files)


def walk(root: S3Root) -> Iterator[tuple[str, int]]:
    """(path relative to ``root``, size) of every object under it."""
    import pyarrow.fs as pafs

    for info in _file_infos(root):
        if info.type == pafs.FileType.File:
            yield root.path.relative(info.path), int(info.size or 0)


def register_duckdb(con: Any, source: Any) -> str:
    """Register the S3 dataset of ``source`` (a :class:`flowlens.model.tables.ParquetSource`
    with ``remote``) on the DuckDB connection ``con``; returns the SELECT a view of it runs (no
    rows with its schema when S3 holds no file). The dataset stays registered, under
    ``<name>__s3``, for as long as the connection lives or until :func:`unregister_duckdb`."""
    from flowlens.model.tables import duckdb_select, with_derived

    assert source.remote is not None
    found = dataset(
        source.remote,
        source.full_schema(),
        dict(source.partitions),
        single_file=source.pattern is None,
    )
    if found is None:
        return str(duckdb_select(source))
    name = registered_name(source.name)
    con.register(name, found)
    _REGISTERED.setdefault(con, {})[name] = found
    return str(with_derived(source, f"SELECT * FROM {name}"))


#: The S3 datasets registered on each live connection: a registration belongs to one DuckDB
#: connection, and :func:`cursor` gives a cursor of it the same ones.
_REGISTERED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def cursor(con: Any) -> Any:
    """``con.cursor()`` that sees the S3 datasets registered on ``con`` (a cursor is a new
    connection to the same database, and registered Python objects are per connection)."""
    cur = con.cursor()
    for name, found in _REGISTERED.get(con, {}).items():
        cur.register(name, found)
    return cur


def unregister_duckdb(con: Any, table: str) -> None:
    """Drop the S3 dataset registered for ``table`` on ``con``."""
    name = registered_name(table)
    con.unregister(name)
    _REGISTERED.get(con, {}).pop(name, None)


def registered_name(table: str) -> str:
    """The name the S3 dataset of a view is registered under."""
    return f"{table}__s3"
