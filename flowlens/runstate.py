"""Resumable batch runs: each stage records a fingerprint of its inputs; unchanged → skipped.

A fingerprint is a hash over file paths, sizes and modification times (plus any options that
change the output), so a re-run after a failure resumes at the first stage whose inputs moved.
State lives in ``<data-dir>/runs/<window>.json`` and is rewritten atomically after each stage.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowlens.atomic import write_text_atomic

log = logging.getLogger(__name__)


def fingerprint_files(paths: Iterable[Path], *extra: str) -> str:
    """A stable hash of the files' relative identity (path, size, mtime) and ``extra`` strings."""
    h = hashlib.sha256()
    for p in sorted({Path(p) for p in paths}):
        if p.is_file():
            st = p.stat()
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        else:
            h.update(f"{p}\0missing\n".encode())
    for item in extra:
        h.update(item.encode() + b"\n")
    return h.hexdigest()[:20]


def tree_files(root: Path, pattern: str = "*.parquet") -> list[Path]:
    """Visible files under ``root`` (hidden temp files of atomic writes are not inputs)."""
    if not root.exists():
        return []
    return [
        p
        for p in root.rglob(pattern)
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]


@dataclass
class RunState:
    """What each stage of one window's batch last completed with."""

    path: Path
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> RunState:
        if path.is_file():
            try:
                return cls(path, json.loads(path.read_text(encoding="utf-8")).get("stages", {}))
            except (OSError, ValueError):
                log.warning("run state %s is unreadable; every stage will run", path)
        return cls(path)

    def is_current(self, stage: str, fingerprint: str) -> bool:
        entry = self.stages.get(stage)
        return bool(
            entry and entry.get("fingerprint") == fingerprint and entry.get("status") == "ok"
        )

    def record(self, stage: str, fingerprint: str, summary: dict[str, Any]) -> None:
        self.stages[stage] = {"fingerprint": fingerprint, "status": "ok", "summary": summary}
        write_text_atomic(json.dumps({"stages": self.stages}, indent=2, default=str), self.path)
