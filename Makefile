# Two commands on a fresh machine: `make repro` (the pipeline on the seed corpus) and `make test`.
# Every target first creates or refreshes .venv (a no-op when pyproject.toml and constraints.txt are unchanged).
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
UI_PORT ?= 5000
SERVE_PORT ?= 5001
SERVE_WORKERS ?= 2
SERVE_MAX_BODY_MB ?= 4
MODEL ?= models/stance
MLFLOW_PORT ?= 5002
MLFLOW_BACKEND ?= sqlite:///$(CURDIR)/mlflow.db
MLFLOW_ARTIFACTS ?= $(CURDIR)/mlruns
MLFLOW_WORKERS ?= 2

# Models come from installed packages only; never from a hub at run time.
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PATH := $(BIN):$(PATH)

.PHONY: setup repro pipeline test test-fast lint ui mlflow-server serve bench clean

# SETUP=no (the tests, which run make in copies of the project with the project's venv) never installs:
# an install from a copy would point the venv's editable `pipeline` at that copy.
ifeq ($(SETUP),no)
$(STAMP):
	@test -x $(BIN)/python || { echo "SETUP=no but $(BIN)/python does not exist" >&2; exit 1; }
else
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,scale]'
	touch $(STAMP)
endif

setup: $(STAMP)

# Compose conf/ into params.yaml first: plain `dvc repro` would not see an edit under conf/.
repro: $(STAMP)
	$(MAKE) --no-print-directory pipeline

pipeline:
	$(BIN)/python -m pipeline.config
	$(BIN)/dvc repro

test: $(STAMP)
	$(BIN)/python -m pytest

# ruff (pyproject.toml [tool.ruff]): .ci/run runs it before the tests.
lint: $(STAMP)
	$(BIN)/ruff check .

# The fast part (no DVC pipeline runs, no transformer training, no browser): about two minutes.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# ui and serve only need the venv to exist (order-only: an edited pyproject.toml does not reinstall here).
ui: | $(STAMP)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host $(HOST) --port $(UI_PORT)

# A tracking server that several machines log to: point them at it with
# MLFLOW_TRACKING_URI=http://<this host>:$(MLFLOW_PORT) (HOST=0.0.0.0 to listen beyond this machine). By default it
# serves the project's own store (mlflow.db) and artifact folder (mlruns/, also the root of new experiments'
# artifacts, which clients upload through the server); production: README "Running at scale" (PostgreSQL, S3).
mlflow-server: | $(STAMP)
	$(BIN)/mlflow server --backend-store-uri $(MLFLOW_BACKEND) --artifacts-destination $(MLFLOW_ARTIFACTS) \
		--host $(HOST) --port $(MLFLOW_PORT) --workers $(MLFLOW_WORKERS)

serve: | $(STAMP)
	@test -f $(MODEL)/MLmodel || { echo "no exported model at $(MODEL): run 'make repro' first"; exit 2; }
	$(BIN)/python -m pipeline.serving.server --model $(MODEL) --host $(HOST) --port $(SERVE_PORT) --workers $(SERVE_WORKERS) \
		--max-body-mb $(SERVE_MAX_BODY_MB)

# Every bench script (python -m bench.<name>), its tables into docs/benchmarks.md (bench/report.py; each
# script's output is kept in docs/bench/). ONLY=stance_quality reruns one script and keeps the others; QUICK=1
# is the smoke run on tiny slices, written under $TMPDIR/bench-quick (default /tmp) so the real figures stay.
bench: $(STAMP)
	$(BIN)/python -m bench.report $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf .pytest_cache dvc_plots outputs multirun
