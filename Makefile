# Two commands for a fresh machine (see README.md):
#   make run    set up, then run the pipeline end to end on the bundled corpus
#   make test   set up, then run the tests (`make test-fast`: those not marked slow, for the inner loop)
# A single-node Slurm on this machine (Debian 12, root or sudo) for tests/test_pipeline_slurm.py:
#   make slurm-up / make slurm-down
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: setup setup-test run test test-fast bench bench-train lint clean slurm-up slurm-down

# uv (from PyPI, into the venv) installs the packages: it downloads and unpacks them in
# parallel: seconds where pip took about a minute for the pipeline's dependencies
UV_INSTALL := $(VENV)/bin/uv pip install -q --python $(VENV)/bin/python

# `make run` installs what the pipeline needs; the tests add pytest, the linters, JAX and kenlm
# (built from source with g++: a minute and a half that a first run need not wait for)
setup: $(STAMP)-run
setup-test: $(STAMP)-test

$(STAMP)-run: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "rnnlm needs Python >= 3.12 (PyTensor >= 3.1); found " + sys.version.split()[0])'
	@if ! ldconfig -p | grep -q libopenblas.so; then \
		echo "installing libopenblas-dev (BLAS for PyTensor's C backend)"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq libopenblas-dev >/dev/null; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq libopenblas-dev >/dev/null; fi; fi
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q uv
	$(UV_INSTALL) -e .
	rm -f $(VENV)/.installed-*
	touch $@

$(STAMP)-test: $(STAMP)-run
	$(UV_INSTALL) -e '.[test]'
	touch $@

run: setup
	$(VENV)/bin/snakemake --cores all

# one pytest worker per core (PYTEST_WORKERS=0: none); a test file stays on one worker, so its
# module fixtures (a trained pipeline, a Slurm run) are built once
PYTEST_WORKERS ?= auto
PYTEST := $(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

test: lint
	$(PYTEST)

test-fast: setup-test
	$(PYTEST) -m "not slow"

# formatting (ruff format, snakefmt), lint (ruff, C901 complexity <= 12) and Snakemake's own checks
lint: setup-test
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/snakefmt --check .
	$(VENV)/bin/snakemake --lint --cores 1

bench: setup
	$(VENV)/bin/python bench/tokenize_throughput.py
	$(VENV)/bin/python bench/train_throughput.py

# training throughput against PyTorch (own Python 3.11 venv), the numpy oracle and a GEMM
# ceiling, and cold/warm compiles; e.g. make bench-train BENCH_ARGS="--quick --threads 1"
bench-train: setup
	$(VENV)/bin/python bench/train_throughput.py $(BENCH_ARGS)

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

slurm-up:
	$(SUDO) .ci/slurm-start.sh

slurm-down:
	$(SUDO) .ci/slurm-stop.sh

clean:
	rm -rf results logs benchmarks resources .snakemake
