"""The pure core imports no I/O library: ``flowlens.model.*``, every module whose docstring
says it is pure, and the stage packages load none of boto3, botocore, duckdb, matplotlib, pandas.

Each module is imported in a fresh interpreter, so what another test imported cannot hide
(or fake) a dependency.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "flowlens"
IO_LIBRARIES = ("boto3", "botocore", "duckdb", "matplotlib", "pandas")
#: How a module says it is pure: "Pure: ...", "Pure maths", "(pure: no boto3 ...)", "pure Python".
PURE_CLAIM = re.compile(r"\bPure\b|\bpure:|\bpure Python\b")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _says_pure(path: Path) -> bool:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return bool(PURE_CLAIM.search(doc))


def pure_modules() -> list[str]:
    model = sorted(PACKAGE.joinpath("model").glob("*.py"))
    documented = [p for p in sorted(PACKAGE.rglob("*.py")) if p not in model and _says_pure(p)]
    return [_module(p) for p in [*model, *documented]]


def _modules_after_import(module: str, selection: str) -> list[str]:
    """In a fresh interpreter, import ``module`` and return ``sorted(<selection>)``, an
    expression over ``sys.modules``."""
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps(sorted({selection})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def _loaded(module: str) -> list[str]:
    return _modules_after_import(module, f"m for m in {IO_LIBRARIES!r} if m in sys.modules")


def test_the_pure_modules_are_found() -> None:
    found = pure_modules()
    assert {
        "flowlens.model.net",
        "flowlens.model.plan",
        "flowlens.recommend.rules",
        "flowlens.report.exposure",
        "flowlens.analyze.addresses",
        "flowlens.ingest.parse",
    } <= set(found)
    assert "flowlens.report.charts" not in found  # pure functions, but of matplotlib: it says so


@pytest.mark.parametrize("module", pure_modules())
def test_a_pure_module_loads_no_io_library(module: str) -> None:
    assert _loaded(module) == [], f"{module} says it is pure"


#: The package and its stages: importing one must not start an engine (their pipelines load lazily).
STAGES = (
    "flowlens",
    "flowlens.analyze",
    "flowlens.engines",
    "flowlens.ingest",
    "flowlens.inventory",
    "flowlens.recommend",
    "flowlens.report",
    "flowlens.cli",
)


@pytest.mark.parametrize("package", STAGES)
def test_a_stage_package_imports_nothing_heavy(package: str) -> None:
    assert _loaded(package) == []


def test_lazy_stage_names_still_resolve() -> None:
    from flowlens.analyze import analyze
    from flowlens.report import write_report

    assert callable(analyze) and callable(write_report)


def test_the_check_is_real() -> None:
    assert _loaded("flowlens.catalog") == ["duckdb"]


#: The stages (every sub-package but the model): the model is the vocabulary they share, so it
#: may depend on none of them.
STAGE_PACKAGES = tuple(
    sorted(
        f"flowlens.{p.name}"
        for p in PACKAGE.iterdir()
        if p.is_dir() and p.name != "model" and (p / "__init__.py").exists()
    )
)


def _flowlens_loaded(module: str) -> list[str]:
    return _modules_after_import(module, "m for m in sys.modules if m.startswith('flowlens.')")


def test_the_stage_packages_are_found() -> None:
    assert {"flowlens.analyze", "flowlens.inventory", "flowlens.recommend"} <= set(STAGE_PACKAGES)
    assert "flowlens.model" not in STAGE_PACKAGES


@pytest.mark.parametrize(
    "module", [_module(p) for p in sorted(PACKAGE.joinpath("model").glob("*.py"))]
)
def test_a_model_module_imports_no_stage(module: str) -> None:
    stages = [
        m
        for m in _flowlens_loaded(module)
        if any(m == s or m.startswith(s + ".") for s in STAGE_PACKAGES)
    ]
    assert stages == [], f"{module} depends on a stage: {stages}"


def test_the_stage_check_is_real() -> None:
    assert "flowlens.inventory.normalize" in _flowlens_loaded("flowlens.inventory.normalize")
