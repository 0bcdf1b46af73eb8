"""Read AWS CLI ``aws ec2 describe-*`` output files into a :class:`RawInventory`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from flowlens.errors import InputError
from flowlens.inventory.build import PrefixListEntries, RawInventory, build_inventory
from flowlens.inventory.normalize import NormalizeError
from flowlens.inventory.shapes import detect

log = logging.getLogger(__name__)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders as their ``*.json`` files (recursively, sorted)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*.json") if f.is_file())
            if not found:
                raise InputError(f"{p}: folder holds no *.json files")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    return files


def _load(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


def read_file(path: Path, raw: RawInventory, region: str | None) -> str:
    """Add one file's items to ``raw``; returns the shape kind. Bad values name the file."""
    shape = detect(_load(path), path)
    single = RawInventory()
    _add(single, shape.kind, shape.items, shape.prefix_list_id, region)
    try:
        build_inventory(single)  # validate this file alone, so an error names it
    except (NormalizeError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: {shape.kind}: {_describe(exc)}") from None
    _add(raw, shape.kind, shape.items, shape.prefix_list_id, region)
    log.info("%s: %d %s", path, len(shape.items), shape.kind)
    return shape.kind


def _describe(exc: Exception) -> str:
    return f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)


def _add(raw: RawInventory, kind: str, items: list, pl_id: str | None, region: str | None) -> None:
    if kind == "prefix_list_entries":
        raw.entries.append(PrefixListEntries(str(pl_id), None, region, items))
    else:
        raw.add(kind, region, items)


#: The top-level key of ``aws configservice get-resource-config-history`` output.
CONFIG_KEY = "configurationItems"


def load_json(path: Path) -> object:
    """One parsed file; InputError naming the file, line and column when it is not JSON."""
    return _load(path)


def partition_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """(EC2 ``describe-*`` files, AWS Config history files) of the given files and folders.

    Config history is recognised by its top-level ``configurationItems`` key; it goes to the
    stored Config history, not into a snapshot (it describes a period, not one moment).
    """
    ec2: list[Path] = []
    config: list[Path] = []
    for path in expand_paths(paths):
        doc = _load(path)
        (config if isinstance(doc, dict) and CONFIG_KEY in doc else ec2).append(path)
    return ec2, config


def read_files(
    paths: Iterable[str | Path], region: str | None = None
) -> tuple[RawInventory, dict[str, str]]:
    """All files into one raw inventory; also returns {file: shape kind} for the snapshot record."""
    raw = RawInventory()
    inputs = {str(p): read_file(p, raw, region) for p in expand_paths(paths)}
    return raw, inputs
