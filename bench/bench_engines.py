"""Benchmark: the same analysis on DuckDB and on Spark (local mode), same Parquet, same cores.

    .venv/bin/python -m bench.bench_engines --records 1000000,4000000 --cores 2 [--sample]
        [--profile DIR] [--steps] [--engines spark] [--spark-conf KEY=VALUE ...]

Generates each day with bench_analyze's generator (flows Parquet plus a matching inventory; with
``--sample``, also the bundled sample_logs/ day, ingested and inventoried like the demo), copies
it, analyses one copy with DuckDB (threads = cores) and the other with Spark (local[cores],
:func:`flowlens.engines.spark_engine.build_session`'s settings; session start-up timed apart),
and prints records/s and records/s per core for each, then the marginal cost per record between
the two largest sizes (the slope) of Spark against DuckDB. Spark needs PySpark 4 and Java 17+.

``--steps`` prints every step's wall and CPU seconds on both engines. ``--profile DIR`` keeps
Spark's event log and each step's formatted plan under DIR and prints, per step, its jobs,
stages, tasks, shuffle bytes and executors' CPU (read from the event log), and the rest of
Spark's CPU (the driver: planning, scheduling, compiling); after each Spark run, the classes
Janino compiled. ``--spark-conf`` adds a Spark setting on top of the engine's (JVM options through
``spark.driver.extraJavaOptions``), to A/B one setting. The load average is printed with the
figures: on a shared machine only same-run ratios mean anything.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from bench.bench_analyze import DAY, gen_flows, gen_inventory
from flowlens.analyze import analyze
from flowlens.analyze.pipeline import step_query
from flowlens.datadir import DataDir


@dataclass
class Timing:
    """One engine's run of one day: the whole analyze and each step's wall time."""

    total: float = 0.0
    started: float = 0.0  # session start (Spark only)
    cpu: float = 0.0  # CPU seconds of the analyze: this process, plus Spark's JVM
    compiled: str = ""  # Spark: the generated classes Janino compiled, and the time it took
    steps: dict[str, float] = field(default_factory=dict)
    step_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per step, as ``cpu``
    step_py: dict[str, float] = field(default_factory=dict)  # of which this process's (Python)


class _StepClock:
    """The progress callback: each step's wall time (and CPU seconds, read by ``cpu``) is the gap
    to the next step's start."""

    def __init__(self, timing: Timing, cpu: Callable[[], float] | None = None) -> None:
        self.timing = timing
        self._cpu = cpu or _cpu_self
        self._last: tuple[str, float, float, float] | None = None

    def __call__(self, day: date, n: int, steps: int, name: str, records: int) -> None:
        self.stop()
        self._last = (name, time.monotonic(), self._cpu(), _cpu_self())

    def stop(self) -> None:
        if self._last is not None:
            name, t0, c0, p0 = self._last
            self.timing.steps[name] = time.monotonic() - t0
            self.timing.step_cpu[name] = self._cpu() - c0
            self.timing.step_py[name] = _cpu_self() - p0
        self._last = None


def _cpu_self() -> float:
    return time.process_time()  # user + system of this process, every thread (DuckDB's too)


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of another process (Spark's JVM), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed_duckdb(dd: DataDir, day: date, cores: int, memory: str) -> Timing:
    timing = Timing()
    clock = _StepClock(timing)
    t0, c0 = time.monotonic(), _cpu_self()
    analyze(dd, [day], threads=cores, memory_limit=memory, progress=clock)
    timing.total = time.monotonic() - t0
    timing.cpu = _cpu_self() - c0
    clock.stop()  # the last step's time includes writing the results
    return timing


def _timed_spark(
    dd: DataDir,
    day: date,
    cores: int,
    memory: str,
    profile: Path | None,
    conf: dict[str, str] | None = None,
) -> Timing:
    from flowlens.engines.spark_engine import SparkEngine, build_session

    extra = dict(conf or {})
    if profile is not None:
        (profile / "events").mkdir(parents=True, exist_ok=True)
        extra |= {
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": (profile / "events").resolve().as_uri(),
        }
    timing = Timing()
    t0 = time.monotonic()
    session = build_session(f"local[{cores}]", memory=memory, extra=extra)
    timing.started = time.monotonic() - t0
    engine = SparkEngine(session, owned=True, plans=profile / "plans" if profile else None)
    # local mode: the driver JVM runs the executors (spark-submit execs java in the launched pid)
    jvm = session.sparkContext._gateway.proc.pid
    clock = _StepClock(timing, lambda: _cpu_self() + _cpu_of(jvm))
    try:
        t1, c1, j1 = time.monotonic(), _cpu_self(), _cpu_of(jvm)
        analyze(dd, [day], engine=engine, progress=clock)
        timing.total = time.monotonic() - t1
        timing.cpu = _cpu_self() - c1 + _cpu_of(jvm) - j1
        clock.stop()
        timing.compiled = _codegen_compiled(session)
    finally:
        engine.close()
    return timing


def _codegen_compiled(session: Any) -> str:
    """How many generated classes the JVM compiled and the sum of their compile times (Spark's
    CodegenMetrics histogram: the count is exact, the mean from its sample of recent ones)."""
    metrics = session.sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics
    hist = metrics.METRIC_COMPILATION_TIME()
    n = hist.getCount()
    return f"{n} classes compiled, ~{n * hist.getSnapshot().getMean() / 1000:.1f} s"


@dataclass
class StepProfile:
    jobs: int = 0
    stages: int = 0
    tasks: int = 0
    shuffle_write: int = 0
    shuffle_read: int = 0
    task_ms: int = 0  # executor run time summed over tasks (compiling generated code included)
    task_cpu_ms: float = 0.0  # executor CPU time summed over tasks (the load does not inflate it)


def _events(folder: Path) -> Iterator[dict[str, Any]]:
    import pyarrow as pa

    for path in sorted(folder.rglob("events_*")):  # Spark 4's rolling log: zstd by default
        codec = "zstd" if path.suffix == ".zstd" else None
        with pa.input_stream(str(path), compression=codec) as raw:
            for line in io.TextIOWrapper(raw, encoding="utf-8"):
                yield json.loads(line)


def event_log_profile(folder: Path) -> dict[str, StepProfile]:
    """Per job group (the step, as SparkEngine names it): jobs, stages run, tasks, shuffle bytes."""
    group_of_stage: dict[int, str] = {}
    out: dict[str, StepProfile] = {}
    for ev in _events(folder):
        kind = ev.get("Event")
        if kind == "SparkListenerJobStart":
            group = (ev.get("Properties") or {}).get("spark.jobGroup.id") or "(no step)"
            out.setdefault(group, StepProfile()).jobs += 1
            for sid in ev.get("Stage IDs", []):
                group_of_stage[sid] = group
        elif kind == "SparkListenerTaskEnd":
            group = group_of_stage.get(ev.get("Stage ID", -1), "(no step)")
            metrics = ev.get("Task Metrics") or {}
            prof = out.setdefault(group, StepProfile())
            prof.task_ms += int(metrics.get("Executor Run Time", 0))
            prof.task_cpu_ms += int(metrics.get("Executor CPU Time", 0)) / 1e6  # ns
        elif kind == "SparkListenerStageCompleted":
            info = ev["Stage Info"]
            prof = out.setdefault(group_of_stage.get(info["Stage ID"], "(no step)"), StepProfile())
            prof.stages += 1
            prof.tasks += int(info.get("Number of Tasks", 0))
            for acc in info.get("Accumulables", []):
                name, value = acc.get("Name", ""), acc.get("Value", 0)
                if name == "internal.metrics.shuffle.write.bytesWritten":
                    prof.shuffle_write += int(value)
                elif name in (
                    "internal.metrics.shuffle.read.remoteBytesRead",
                    "internal.metrics.shuffle.read.localBytesRead",
                ):
                    prof.shuffle_read += int(value)
    return out


def _sample_day(root: Path) -> tuple[DataDir, date, int]:
    from flowlens.batch import window_end
    from flowlens.ingest.pipeline import ingest
    from flowlens.ingest.source import LocalSource
    from flowlens.inventory import snapshot_from_json
    from flowlens.samples import sample_logs_root

    samples, day = sample_logs_root(), date(2026, 11, 28)
    dd = DataDir(root)
    ingest(LocalSource(samples / "s3"), [day], dd)
    snapshot_from_json([samples / "inventory"], dd, taken_at=window_end([day]))
    n = sum(pq.ParquetFile(f).metadata.num_rows for f in dd.flows.rglob("*.parquet"))
    return dd, day, n


def _generated_day(root: Path, records: int, enis: int) -> tuple[DataDir, date, int]:
    dd = DataDir(root)
    flows = gen_flows(records, enis, np.random.default_rng(7))
    folder = dd.flows / "account_id=111122223333" / "region=us-east-1" / f"date={DAY}"
    folder.mkdir(parents=True)
    pq.write_table(flows, folder / "part-0.parquet", compression="zstd")
    gen_inventory(dd, enis)
    return dd, DAY, len(flows)


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _rate(label: str, n: int, timing: Timing, cores: int, extra: str = "") -> str:
    seconds = timing.total
    return (
        f"{label:<8} {seconds:8.1f}s {n / seconds:12,.0f} rec/s "
        f"{n / seconds / cores:10,.0f} rec/s/core {timing.cpu:8.1f} CPU s{extra}   load {_load()}"
    )


def _print_steps(duck: Timing | None, spark: Timing | None, prof: dict[str, StepProfile]) -> None:
    """Per step: wall and CPU seconds on each engine (Spark's: the JVM's and this process's),
    then from the event log the jobs, stages, tasks, shuffle bytes, the executors' run time and
    CPU summed over tasks, and the rest of Spark's CPU (``driver``: planning, scheduling, the
    checkpoints' bookkeeping; Spark's CPU minus the executors'), of which ``py`` in Python
    (transpiling, py4j)."""
    names = list((spark or duck or Timing()).steps)
    print(
        f"  {'step':<24}{'duckdb':>9}{'d CPU':>8}{'spark':>9}{'s CPU':>8}{'jobs':>6}"
        f"{'stages':>7}{'tasks':>7}{'shuffle w':>11}{'shuffle r':>11}{'task run':>10}"
        f"{'task CPU':>10}{'driver':>9}{'py':>7}"
    )

    def cell(t: Timing | None, name: str) -> str:
        if t is None:
            return f"{'-':>9}{'-':>8}"
        return f"{t.steps.get(name, 0):8.2f}s{t.step_cpu.get(name, 0):7.2f}s"

    for name in names:
        p = prof.get(name) or prof.get(step_query(name).name, StepProfile())
        driver = (spark.step_cpu.get(name, 0) - p.task_cpu_ms / 1000) if spark else 0.0
        print(
            f"  {name:<24}{cell(duck, name)}{cell(spark, name)}{p.jobs:6}{p.stages:7}{p.tasks:7}"
            f"{p.shuffle_write / 2**20:10.1f}M{p.shuffle_read / 2**20:10.1f}M"
            f"{p.task_ms / 1000:9.1f}s{p.task_cpu_ms / 1000:9.1f}s{driver:8.1f}s"
            f"{spark.step_py.get(name, 0) if spark else 0:6.2f}s"
        )
    rest = prof.get("(no step)")
    if rest:
        print(
            f"  {'(outside steps)':<24}{'':34}{rest.jobs:6}{rest.stages:7}{rest.tasks:7}"
            f"{rest.shuffle_write / 2**20:10.1f}M{rest.shuffle_read / 2**20:10.1f}M"
            f"{rest.task_ms / 1000:9.1f}s{rest.task_cpu_ms / 1000:9.1f}s"
        )
    task_cpu = sum(p.task_cpu_ms for p in prof.values()) / 1000
    print(
        f"  {'(all)':<24}{'':34}{sum(p.jobs for p in prof.values()):6}{'':36}"
        f"{sum(p.task_ms for p in prof.values()) / 1000:9.1f}s{task_cpu:9.1f}s"
        + (f"{spark.cpu - task_cpu:8.1f}s" if spark and prof else "")
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--records",
        default="1000000,4000000",
        help="comma-separated day sizes to generate (default 1M and 4M; empty: none)",
    )
    ap.add_argument("--sample", action="store_true", help="also time the sample_logs/ day")
    ap.add_argument("--enis", type=int, default=300)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--memory", default="2g", help="DuckDB memory_limit and Spark driver memory")
    ap.add_argument(
        "--engines", default="duckdb,spark", help="comma-separated engines to time (default: both)"
    )
    ap.add_argument("--steps", action="store_true", help="print every step's wall time")
    ap.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Spark setting on top of the engine's (repeatable; to A/B a setting)",
    )
    ap.add_argument(
        "--profile", type=Path, help="keep Spark's event log and plans here; print per-step stages"
    )
    args = ap.parse_args(argv)
    engines = set(args.engines.split(","))
    duck_memory = args.memory.upper() + ("B" if args.memory[-1].isalpha() else "")
    root = Path(tempfile.mkdtemp(prefix="flowlens-bench-engines-"))
    days: list[tuple[str, Any]] = [("sample", None)] if args.sample else []
    days += [(f"{int(r):,}", int(r)) for r in args.records.split(",") if r.strip()]
    slopes: dict[str, list[tuple[int, float]]] = {"duckdb": [], "spark": []}
    cpu: dict[str, list[tuple[int, float]]] = {"duckdb": [], "spark": []}
    print(f"{args.cores} cores, load average {_load()}, data under {root}", flush=True)
    for label, records in days:
        made = (
            _sample_day(root / label / "duckdb")
            if records is None
            else _generated_day(root / label / "duckdb", records, args.enis)
        )
        duck_dd, day, n = made
        spark_dd = DataDir(root / label / "spark")
        shutil.copytree(duck_dd.root, spark_dd.root)
        print(f"day {label}: {n:,} records", flush=True)
        duck = spark = None
        if "duckdb" in engines:
            duck = _timed_duckdb(duck_dd, day, args.cores, duck_memory)
            print(_rate("duckdb", n, duck, args.cores), flush=True)
            slopes["duckdb"].append((n, duck.total))
            cpu["duckdb"].append((n, duck.cpu))
        prof: dict[str, StepProfile] = {}
        if "spark" in engines:
            where = args.profile / label if args.profile else None
            conf = dict(kv.split("=", 1) for kv in args.spark_conf)
            spark = _timed_spark(spark_dd, day, args.cores, args.memory, where, conf)
            extra = f"  (+{spark.started:.1f}s session start; {spark.compiled})"
            print(_rate("spark", n, spark, args.cores, extra), flush=True)
            slopes["spark"].append((n, spark.total))
            cpu["spark"].append((n, spark.cpu))
            if where is not None:
                prof = event_log_profile(where / "events")
        if duck and spark:
            print(
                f"ratio    {spark.total / duck.total:8.1f}x wall, "
                f"{spark.cpu / max(duck.cpu, 1e-9):.1f}x CPU (session start excluded)"
            )
        if args.steps or args.profile:
            _print_steps(duck, spark, prof)
        shutil.rmtree(root / label, ignore_errors=True)
    for what, series in (("wall", slopes), ("CPU", cpu)):
        big = {e: sorted(v)[-2:] for e, v in series.items() if len(v) >= 2}
        if len(big) == 2:
            (n1, d1), (n2, d2) = big["duckdb"]
            (_, s1), (_, s2) = big["spark"]
            duck_slope, spark_slope = (d2 - d1) / (n2 - n1), (s2 - s1) / (n2 - n1)
            print(
                f"marginal {n1:,} → {n2:,} ({what}): DuckDB {duck_slope * 1e6:.2f} s per M "
                f"records, Spark {spark_slope * 1e6:.2f} s per M records: "
                f"{spark_slope / duck_slope:.1f}x"
            )
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
