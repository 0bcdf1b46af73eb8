"""Where the bundled sample day lives: inside the installed package, else the source tree."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from flowlens.errors import InputError


def sample_logs_root() -> Path:
    packaged = Path(str(resources.files("flowlens"))) / "sample_logs"
    for root in (packaged, Path(__file__).resolve().parent.parent / "sample_logs"):
        if (root / "expected.json").is_file():
            return root
    raise InputError(
        "the bundled sample_logs/ are missing from this installation; reinstall flowlens"
    )
