# The two commands the README opens with: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
FLASK ?= $(BIN)/flask
# `make run PORT=5001`: the demo on another port; QR codes and feeds then print that origin.
PORT ?= 5000

.PHONY: run test smoke install translations lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,production]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	@$(BIN)/python registry/i18n_compile.py translations

# The demo site: every page says its data is fictional.
run: export DEMO_MODE := 1
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
# A person reads this console: key=value lines (production keeps JSON lines).
run: export LOG_FORMAT ?= text
run: install
	$(FLASK) registry init
	$(FLASK) demo load
	$(FLASK) search rebuild
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The README's "Running in production" runbook, run for real (PostgreSQL, Redis, gunicorn): deploy/smoke.sh.
smoke:
	deploy/smoke.sh

# Benchmarks print median / p95 / throughput against a baseline measured in the same run (minutes each),
# then one table of every goal of benchmarks/goals.py. Sizes: e.g. `make bench SEARCH_BENCH_ARGS="--certificates 5000"`.
BENCH_RESULTS := benchmarks/out/results.jsonl
bench: install
	mkdir -p benchmarks/out && rm -f $(BENCH_RESULTS)
	BENCH_RESULTS=$(BENCH_RESULTS) PYTHONPATH=. $(BIN)/python benchmarks/verify.py $(VERIFY_BENCH_ARGS)
	BENCH_RESULTS=$(BENCH_RESULTS) PYTHONPATH=. $(BIN)/python benchmarks/bulk.py $(BULK_BENCH_ARGS)
	BENCH_RESULTS=$(BENCH_RESULTS) PYTHONPATH=. $(BIN)/python benchmarks/complaints.py $(COMPLAINTS_BENCH_ARGS)
	BENCH_RESULTS=$(BENCH_RESULTS) PYTHONPATH=. $(BIN)/python benchmarks/search.py $(SEARCH_BENCH_ARGS)
	$(BIN)/python benchmarks/goals.py $(BENCH_RESULTS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance/*.db search_index/*
