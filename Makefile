# UberTruck platform. `make plan` and `make test` work from a fresh clone with python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Two cores on the build machines; pytest-xdist spreads the suite over them.
TEST_WORKERS ?= auto

.PHONY: venv plan test validate scan bench clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

## The main job: validate the registry, then plan every stack offline with the policy gate.
plan: venv
	$(BIN)/platformctl tenants validate
	$(BIN)/platformctl plan

## The test suite (mock runtime, Analyzer protocol, moto).
test: venv
	$(BIN)/pytest -n $(TEST_WORKERS)

validate: venv
	$(BIN)/platformctl tenants validate

scan: venv
	$(BIN)/platformctl scan .

bench: venv
	for script in benchmarks/*.py; do PYTHONPATH=. $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .plan-cache .pytest_cache .hypothesis
