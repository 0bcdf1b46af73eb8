"""Run one benchmark command in its own process: wall time, peak RSS of its
process tree, CPU seconds."""

from __future__ import annotations

import contextlib
import resource
import subprocess
import time
from dataclasses import dataclass
from typing import IO

import psutil


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss: int
    cpu_seconds: float


def measure(
    cmd: list[str],
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    stdout: IO[str] | None = None,
) -> Measured:
    """Run ``cmd``; wall time, peak RSS (process tree, sampled every 50 ms)
    and user+sys CPU seconds. Its stdout goes to ``stdout`` (default: discarded)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = psutil.Popen(
        cmd, stdout=subprocess.DEVNULL if stdout is None else stdout, env=env, cwd=cwd
    )
    peak = 0
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(
                peak,
                proc.memory_info().rss
                + sum(c.memory_info().rss for c in proc.children(recursive=True)),
            )
        time.sleep(0.05)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd[:5])} failed with exit code {proc.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(seconds, peak, cpu)
