# UberTruck platform. `make plan` and `make test` work from a fresh clone with python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Two cores on the build machines; pytest-xdist spreads the suite over them.
TEST_WORKERS ?= auto

.PHONY: venv plan test lint validate scan bench clean engine package test-services

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

## The real engine: the Pulumi CLI at the release engine/go.mod pins, built from the Go module proxy into
## .tools/bin (git-ignored). Rebuilt only when engine/ changes.
TOOLS := .tools/bin
ENGINE_MODULE := github.com/pulumi/pulumi/pkg/v3

engine: $(TOOLS)/pulumi $(TOOLS)/.language-host

$(TOOLS)/pulumi: engine/go.mod engine/go.sum
	mkdir -p $(TOOLS)
	cd engine && version=$$(go list -m -f '{{.Version}}' $(ENGINE_MODULE)) && \
		go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$$version" \
		-o ../$(TOOLS)/pulumi.partial $(ENGINE_MODULE)/cmd/pulumi
	mv $(TOOLS)/pulumi.partial $(TOOLS)/pulumi

$(TOOLS)/.language-host: engine/language-host.sh engine/go.mod
	mkdir -p $(TOOLS)
	sh engine/language-host.sh $(abspath $(TOOLS))
	touch $@

## The main job: validate the registry, then plan every stack offline with the policy gate.
plan: venv
	$(BIN)/platformctl tenants validate
	$(BIN)/platformctl package
	$(BIN)/platformctl plan

## The Lambda artifacts the program deploys (function zips, the layer with its wheels, manifest.json).
package: venv
	$(BIN)/platformctl package

## The test suite (mock runtime, Analyzer protocol, moto).
test: venv engine test-services
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

## Debian's postgresql and redis-server, which the provisioning service's tests start on loopback.
test-services:
	bash scripts/test-services.sh

## Linters: ruff over the repository, mypy over the domain core, the components and platformctl (pyproject.toml).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

validate: venv
	$(BIN)/platformctl tenants validate

scan: venv
	$(BIN)/platformctl scan .

bench: venv
	for script in benchmarks/*.py; do PYTHONPATH=. $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .plan-cache .pytest_cache .hypothesis .tools
