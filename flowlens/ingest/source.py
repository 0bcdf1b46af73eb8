"""Where flow-log objects come from: S3 (the only boto3 code of ingest) or a local mirror.

Both sources implement :class:`Source`: ``list(prefix)`` yields objects with key/etag/size,
``children(prefix)`` names sub-folders (an S3 delimiter listing), ``open(key)`` returns a binary
stream. Retries are botocore's (``standard`` mode by default, ``adaptive`` on request) plus a
re-download of a body whose connection dropped; :attr:`retries` counts both.
"""

from __future__ import annotations

import builtins
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from flowlens.errors import AwsAccessError, InputError, UsageError

_SPOOL_BYTES = 16 << 20
_BODY_ATTEMPTS = 3


@dataclass(frozen=True)
class SourceObject:
    key: str  # relative to the source root (bucket, or local directory)
    etag: str
    size: int


class Source(Protocol):
    description: str

    @property
    def retries(self) -> int: ...

    def list(self, prefix: str) -> Iterator[SourceObject]: ...

    def children(self, prefix: str) -> builtins.list[str]: ...

    def open(self, key: str) -> IO[bytes]: ...


class LocalSource:
    """A local directory laid out like the bucket (what ``aws s3 sync`` leaves).

    A file's ETag is ``<size>-<mtime_ns>`` (hex): a changed file gets a new one, cheaply.
    """

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise InputError(f"source directory {root} does not exist")
        self.root = root
        self.description = str(root)

    @property
    def retries(self) -> int:
        return 0

    def list(self, prefix: str) -> Iterator[SourceObject]:
        base = self.root / prefix
        if not base.is_dir():
            return
        for dirpath, _dirs, files in os.walk(base):
            for name in sorted(files):
                path = Path(dirpath) / name
                st = path.stat()
                yield SourceObject(
                    path.relative_to(self.root).as_posix(),
                    f"{st.st_size:x}-{st.st_mtime_ns:x}",
                    st.st_size,
                )

    def children(self, prefix: str) -> builtins.list[str]:
        base = self.root / prefix
        return sorted(p.name + "/" for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def open(self, key: str) -> IO[bytes]:
        return open(self.root / key, "rb")


class S3Source:
    """An S3 bucket through a boto3 client (created by :func:`make_s3_client`, or injected)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.description = f"s3://{bucket}"
        self._retries = 0
        self._lock = threading.Lock()

    @property
    def retries(self) -> int:
        return self._retries

    def _count(self, response: dict[str, Any]) -> None:
        n = int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        if n:
            with self._lock:
                self._retries += n

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        token: dict[str, str] = {}
        while True:
            page = self._call(self.client.list_objects_v2, Bucket=self.bucket, **kwargs, **token)
            yield page
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def list(self, prefix: str) -> Iterator[SourceObject]:
        for page in self._pages(Prefix=prefix):
            for obj in page.get("Contents", []):
                yield SourceObject(obj["Key"], obj["ETag"].strip('"'), int(obj["Size"]))

    def children(self, prefix: str) -> builtins.list[str]:
        out: builtins.list[str] = []
        for page in self._pages(Prefix=prefix, Delimiter="/"):
            out += [p["Prefix"][len(prefix) :] for p in page.get("CommonPrefixes", [])]
        return out

    def open(self, key: str) -> IO[bytes]:
        """The whole body, spooled (memory up to 16 MiB, then a temp file); a
        dropped connection is retried."""
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import (
            IncompleteReadError,
            ReadTimeoutError,
            ResponseStreamingError,
        )

        for attempt in range(1, _BODY_ATTEMPTS + 1):
            spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - returned open
            try:
                body = self._call(self.client.get_object, Bucket=self.bucket, Key=key)["Body"]
                while piece := body.read(1 << 20):
                    spool.write(piece)
            except (
                BotoConnectionError,
                IncompleteReadError,
                ReadTimeoutError,
                ResponseStreamingError,
            ):
                spool.close()
                if attempt == _BODY_ATTEMPTS:
                    raise
                with self._lock:
                    self._retries += 1
                continue
            spool.seek(0)
            return spool
        raise AssertionError("unreachable")

    def _call(self, fn: Any, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

        try:
            response: dict[str, Any] = fn(**kwargs)
        except NoCredentialsError:
            raise AwsAccessError(
                "no AWS credentials found; set AWS_PROFILE / --profile or AWS_ACCESS_KEY_ID"
            ) from None
        except EndpointConnectionError as exc:
            raise AwsAccessError(
                f"cannot reach S3 at {exc.kwargs.get('endpoint_url')}; check "
                "--endpoint-url / --region"
            ) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            where = f"s3://{self.bucket}/{kwargs.get('Key') or kwargs.get('Prefix', '')}"
            if code in (
                "AccessDenied",
                "InvalidAccessKeyId",
                "SignatureDoesNotMatch",
                "ExpiredToken",
                "403",
            ):
                raise AwsAccessError(
                    f"{where}: access denied ({code}); the role needs "
                    "s3:ListBucket and s3:GetObject"
                ) from None
            if code in ("NoSuchBucket",):
                raise InputError(f"bucket {self.bucket!r} does not exist (check SOURCE)") from None
            raise
        self._count(response)
        return response


def make_s3_client(
    *,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    retry_mode: str,
    max_pool: int,
) -> Any:
    """A boto3 S3 client with botocore's retry mode and a connection pool sized for the workers."""
    from flowlens.aws import AwsOptions, client

    return client(AwsOptions(profile, region, endpoint_url, retry_mode), "s3", max_pool=max_pool)


def split_source(source: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` → ``(bucket, prefix)``."""
    rest = source.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise UsageError(f"SOURCE {source!r} names no bucket; use s3://bucket[/prefix]")
    return bucket, prefix
