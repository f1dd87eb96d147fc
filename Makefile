# AgentDesk: `make run` starts the demo, `make test` checks everything.
# The virtual environment lives in .venv/ at the repository root.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export PYTHONUTF8 := 1

.PHONY: run test lint typecheck pytest bench screenshots system-deps venv clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## system packages: PostgreSQL server, Qt runtime libraries, a virtual display
system-deps:
	@bash .ci/system-deps

## the embedded server with SQLite, demo data, and the desk signed in as a demo agent
run: $(STAMP)
	@bash .ci/system-deps --desk
	$(PY) -m agentdesk demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP) system-deps
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest

## lint, type checks and every test
test: lint typecheck pytest

## benchmarks print JSON figures and write benchmarks/results/latest.json
bench: $(STAMP) system-deps
	QT_QPA_PLATFORM=offscreen $(PY) -m benchmarks

## render the main screens offscreen into docs/screenshots/
screenshots: $(STAMP) system-deps
	QT_QPA_PLATFORM=offscreen $(PY) -m ui.screenshots docs/screenshots

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
