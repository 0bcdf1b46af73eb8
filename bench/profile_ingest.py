"""Where ingest's time goes: CPU seconds per phase of one in-process ``ingest`` run.

    python -m bench.profile_ingest SRC_DIR [--date 2026-11-28] [--workers 1] [--out DIR]

SRC_DIR is a local mirror in the S3 layout (e.g. ``--workdir``/src of bench_ingest, or
``python -m bench.generate``). Each phase's function is wrapped with a timer of the calling
thread's CPU time (``time.thread_time``, so the figures mean something on a loaded machine and
with fetch threads); a phase called inside another is subtracted from the outer one. With
``--workers 1`` (the default) the phases add up to the process CPU time less start-up.
Another checkout's ingest is profiled with ``PYTHONPATH=CHECKOUT:.`` (phases it lacks are left
out), for a before/after in the same period of load.
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import flowlens.ingest.parse as parse
import flowlens.ingest.pipeline as pipeline
import flowlens.ingest.reading as reading
import flowlens.ingest.writer as writer
from flowlens.datadir import DataDir
from flowlens.ingest.source import LocalSource

_spent: dict[str, float] = defaultdict(float)
_lock = threading.Lock()
_local = threading.local()


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        stack = _local.__dict__.setdefault("stack", [])
        t0 = time.thread_time()
        stack.append(0.0)
        try:
            return fn(*args, **kwargs)
        finally:
            dt = time.thread_time() - t0
            inner = stack.pop()
            with _lock:
                _spent[name] += dt - inner
            if stack:
                stack[-1] += dt

    return wrapper


def _timed_iter(name: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        it = fn(*args, **kwargs)
        step = _timed(name, lambda: next(it, StopIteration))
        while (item := step()) is not StopIteration:
            yield item

    return wrapper


class _TimedFile:
    def __init__(self, f: Any) -> None:
        self.f = f
        self.read = _timed("GET (open, read)", f.read)

    def __enter__(self) -> _TimedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


def _patch(owner: Any, attr: str, phase: str) -> None:
    if hasattr(owner, attr):  # an older checkout (PYTHONPATH) may lack one
        setattr(owner, attr, _timed(phase, getattr(owner, attr)))


def _instrument() -> None:
    local_open = LocalSource.open

    def timed_open(self: LocalSource, key: str) -> _TimedFile:
        return _TimedFile(_timed("GET (open, read)", local_open)(self, key))

    setattr(LocalSource, "open", timed_open)  # noqa: B010 - a method swapped for a timed one
    parse._decompressed = _timed_iter("gunzip", parse._decompressed)
    if hasattr(parse, "Body"):
        scan = parse.Body.__dict__["of"].__func__  # the classmethod's function
        parse.Body.of = classmethod(_timed("scan (lines, odd bytes)", scan))  # type: ignore[assignment]
    for owner, attr, phase in (
        (parse, "_read_csv", "parse (CSV)"),
        (parse, "finish_table", "parse (finish)"),
        (parse, "_has_empty_field", "parse (empty fields)"),
        (parse, "invalid_rows", "validate"),
        (reading, "split", "partition"),
        (writer._Open, "write", "write (row groups)"),
        (getattr(writer, "_Buffer", writer._Open), "take", "write (buffers)"),
        (writer.PartitionWriter, "close", "write (close)"),
        (reading._Batch, "flush", "batch (other)"),
        (pipeline, "list_window", "list + plan"),
        (pipeline, "plan", "list + plan"),
        (pipeline, "_commit", "manifest"),
        (pipeline, "refresh_catalog", "catalog"),
    ):
        _patch(owner, attr, phase)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("src")
    p.add_argument("--date", default="2026-11-28")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", default="/tmp/flowlens-profile-ingest")
    args = p.parse_args(argv)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    _instrument()
    t0, c0 = time.perf_counter(), time.process_time()
    s = pipeline.ingest(
        LocalSource(Path(args.src)),
        [date.fromisoformat(args.date)],
        DataDir(out),
        workers=args.workers,
    )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"{s.lines:,} lines ({s.rows:,} rows) from {s.objects} objects: wall {wall:.2f} s, "
        f"process CPU {cpu:.2f} s, workers {args.workers}"
    )
    for name, secs in sorted(_spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:24} {secs:7.2f} CPU-s  {100 * secs / cpu:5.1f} %")
    timed = sum(_spent.values())
    print(f"  {'(other)':24} {cpu - timed:7.2f} CPU-s  {100 * (cpu - timed) / cpu:5.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
