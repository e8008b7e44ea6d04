# smartfab developer commands. `make help` lists them.

SHELL := /bin/bash
.DEFAULT_GOAL := help
# venv and system-deps may both call apt-get; keep them in order.
.NOTPARALLEL:

VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Test processes (pytest-xdist); each starts its own broker, InfluxDB and PostgreSQL database.
PYTEST_WORKERS ?= 2
DEMO_ARGS ?=

.PHONY: help venv system-deps demo test lint bench mutate clean

help:
	@echo "make demo    migrate, load the demo data and serve http://127.0.0.1:8000 (DEMO_ARGS=...)"
	@echo "make test    install Mosquitto, InfluxDB, PostgreSQL and .venv, run pytest (PYTEST_ARGS=..., PYTEST_WORKERS=2)"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make bench   run the benchmarks in bench/"
	@echo "make mutate  mutation testing of the booking, pricing and derivation rules (MUTANTS=...)"
	@echo "make venv    create .venv and install smartfab[test,dev]"
	@echo "make clean   remove .venv, build output and caches (keeps instance/)"

venv:
	@VENV=$(VENV) scripts/venv.sh

system-deps:
	@scripts/system-deps.sh

demo: venv
	$(VENV)/bin/smartfab demo $(DEMO_ARGS)

test: system-deps venv
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy

# Every bench/*.py with a __main__ block is a benchmark; the others are its helpers.
bench: venv
	@shopt -s nullglob; ran=0; \
	for f in bench/*.py; do \
		grep -q "^if __name__ == .__main__.:" "$$f" || continue; \
		echo "== $$f"; $(PY) "$$f" || exit 1; ran=1; \
	done; \
	[ $$ran = 1 ] || echo "bench/ has no benchmarks yet"

# mutmut over the files named in [tool.mutmut] (pyproject.toml); not part of `make test`.
# One module at a time: make mutate MUTANTS="service.rules.pricing*"
MUTANTS ?=
mutate: venv
	$(VENV)/bin/mutmut run $(if $(MUTANTS),'$(MUTANTS)')
	$(VENV)/bin/mutmut results

clean:
	rm -rf $(VENV) mutants build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
