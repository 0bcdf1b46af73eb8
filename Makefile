# One entry point for checks: `make check` is exactly what CI runs (through .ci/run).
PY ?= .venv/bin/python

.PHONY: setup check lint test demo bench

setup:
	python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'

lint:
	$(PY) -m ruff check flowlens tests bench
	$(PY) -m ruff format --check flowlens tests bench
	$(PY) -m mypy
	$(PY) -m sqlfluff lint sql

test:
	$(PY) -m pytest -n 2 -q

check: lint test

demo:
	.venv/bin/flowlens demo --out reports/demo
