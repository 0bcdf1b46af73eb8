"""A batch stage in a forked child (flowlens/isolated.py): its answer and its errors come back
as they would in-process. What that is for, the memory the child gives back when it exits, is
measured by bench/bench_run.py (peak RSS of the 20M-record batch), not here.

Real processes: every test forks (Linux). Nothing is mocked.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from pathlib import Path

import pytest

from flowlens.datadir import DataDir
from flowlens.errors import EnvironmentFailure, ExitCode, FlowlensError, InputError
from flowlens.isolated import forkable, run_isolated
from flowlens.lock import held, writer_lock

pytestmark = pytest.mark.skipif(not forkable(), reason="the platform cannot fork")


def test_the_work_runs_in_another_process_and_its_answer_comes_back() -> None:
    answer = run_isolated(lambda: {"pid": os.getpid(), "rows": [1, 2, 3]}, "test")
    assert answer["rows"] == [1, 2, 3]
    assert answer["pid"] != os.getpid()


def test_a_flowlens_error_keeps_its_class_exit_code_and_the_childs_traceback() -> None:
    def fail() -> None:
        raise InputError("s3://bucket/key.gz line 7: 13 fields, the header names 14")

    with pytest.raises(InputError, match="line 7: 13 fields") as caught:
        run_isolated(fail, "ingest")
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    notes = "".join(getattr(caught.value, "__notes__", []))
    assert "in the child process" in notes and "in fail" in notes


class _HoldsALock(Exception):
    """An exception that no pickling can carry (a lock among its attributes), whatever hooks
    another library installed for exceptions (tblib's pickling support, say)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.guard = threading.Lock()


def test_an_error_that_cannot_cross_the_pipe_is_named_not_lost() -> None:
    def fail() -> None:
        raise _HoldsALock("flows/a.gz line 3")

    with pytest.raises(FlowlensError, match=re.escape("_HoldsALock: flows/a.gz line 3")) as caught:
        run_isolated(fail, "ingest")
    assert "in fail" in "".join(getattr(caught.value, "__notes__", []))


def test_a_child_killed_without_an_answer_is_an_environment_failure_naming_the_signal() -> None:
    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(EnvironmentFailure, match=r"ingest process .* signal 9"):
        run_isolated(die, "ingest")


def test_the_child_shares_the_writer_lock_the_parent_holds(tmp_path: Path) -> None:
    """``run`` holds the data dir's lock and ingest takes it again: in the child too, without
    waiting for itself (the lock is re-entrant and the forked flock is the same lock)."""
    dd = DataDir(tmp_path / "data")

    def take_it_again() -> bool:
        with writer_lock(dd, "ingest"):
            return held(dd)

    with writer_lock(dd, "run"):
        assert run_isolated(take_it_again, "ingest") is True
        assert held(dd)
    assert not held(dd)
