# giftbridge: `make run` runs the daemon (against the local sandbox when no credentials are set),
# `make test` runs the tests. Both create .venv and install what they need on first use: the
# daemon (giftbridge, ./pyproject.toml) and, beside it, its sandbox (giftbridge-sandbox,
# ./sandbox/pyproject.toml), a separate distribution the daemon starts as its own process.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format typecheck bench soak clean sandbox check

$(STAMP): pyproject.toml sandbox/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./sandbox
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/giftbridge run

sandbox: $(STAMP)
	$(BIN)/giftbridge sandbox --demo

check: $(STAMP)
	$(BIN)/giftbridge check

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

# The whole-system simulation (tests/sim): SEEDS seeds (default 10,000) over every core, or
# SEED=N to replay one seed step by step. Not part of `make test`, which runs a few hundred.
SEEDS ?= 10000
soak: $(STAMP)
	$(BIN)/python -m tests.sim $(if $(SEED),replay $(SEED),soak --seeds $(SEEDS))

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache state build *.egg-info \
		sandbox/build sandbox/*.egg-info
