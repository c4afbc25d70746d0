# Carrefour's front door. `make run` and `make test` do all the set-up on a fresh machine
# that has only Python 3.11 and make; every step is idempotent and skipped when up to date.

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
PROTOS := $(shell find protos -name '*.proto' | sort)
GEN := gen
GENERATED := $(GEN)/.generated
PKI_DIR := var/pki
PKI := $(PKI_DIR)/.issued
# The programs that exist so far (`python -m <name>`; CI migrates one database per program).
SERVICES := echo registry router mutuality dimona dmfa drs inbox mutation ttp warehouse
# What `make run` starts, in start order: each a program instance with its own port, database
# and log (runtime.supervise's MESH): the mutualities' hub is the router program as `hub-cin`,
# each demonstration mutuality the `mutuality` program, each institution inbox the `inbox` one.
MESH := echo registry router hub-cin mut-100 mut-200 dimona dmfa inbox-onem inbox-mut-100 inbox-mut-200 inbox-fedris inbox-ethias drs mutation ttp warehouse portal edge
PYTEST_ARGS ?=

print-services:
	@echo $(SERVICES)

.PHONY: print-services help venv proto pki browser migrate run demo test test-storage test-integration lint bench lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

venv: $(INSTALLED) ## create .venv and install the pinned dependencies

$(INSTALLED): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt '.[dev]'
	@# services/ and gen/ on sys.path: the code runs from the work tree, no install step.
	@site=$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') && \
	  printf '%s\n' "$(CURDIR)/services" "$(CURDIR)/$(GEN)" > "$$site/carrefour.pth"
	@touch $@

proto: $(GENERATED) ## generate the gRPC code from protos/ into gen/

# Generated into gen.new/, then swapped in with two renames: a program or a test running from
# gen/ meanwhile never finds it empty or half written.
$(GENERATED): $(PROTOS) $(INSTALLED) Makefile
	rm -rf $(GEN).new $(GEN).old && mkdir -p $(GEN).new
	$(PY) -m grpc_tools.protoc -I protos -I third_party/googleapis \
	  --python_out=$(GEN).new --pyi_out=$(GEN).new --grpc_python_out=$(GEN).new $(PROTOS)
	@# The descriptor set (the edge's REST/JSON transcoder, reflection-free tools) also holds
	@# google.rpc's error details, so that errors can be printed as JSON; their Python code
	@# comes from googleapis-common-protos, not from here.
	@# With the contracts' comments (source info): the OpenAPI document's descriptions.
	$(PY) -m grpc_tools.protoc -I protos -I third_party/googleapis \
	  --include_imports --include_source_info --descriptor_set_out=$(GEN).new/carrefour.binpb \
	  $(PROTOS) google/rpc/status.proto google/rpc/error_details.proto
	@# The OpenAPI document of the edge's REST/JSON, from that descriptor set (the new code
	@# first on the path).
	cd services && PYTHONPATH=../$(GEN).new ../$(PY) -m edge.openapi \
	  --descriptors ../$(GEN).new/carrefour.binpb --out ../$(GEN).new/openapi.json
	touch $(GEN).new/.generated
	if [ -d $(GEN) ]; then mv $(GEN) $(GEN).old; fi && mv $(GEN).new $(GEN) && rm -rf $(GEN).old

pki: $(PKI) ## create the development PKI (CA and one certificate per party) in var/pki

# Re-run when the PKI's layout changes: init keeps what is current and re-issues what is not.
$(PKI): services/runtime/pki.py $(INSTALLED)
	$(PY) -m runtime.pki init --dir $(PKI_DIR)
	@touch $@

migrate: $(GENERATED) pki ## bring every service's database to the latest migration
	$(PY) -m runtime.supervise --migrate-only $(MESH)

run: $(GENERATED) pki ## install, generate, and start the mesh on the embedded default (SQLite)
	$(PY) -m runtime.supervise $(MESH)

demo: $(GENERATED) pki ## play a worker's story against the running mesh (`make run` first)
	$(PY) -m demo

# The portal's browser tests drive Debian's Chromium through Playwright (never a downloaded
# browser): installed from apt when missing (as root, or with sudo).
CHROMIUM := /usr/bin/chromium
browser: $(CHROMIUM) ## install Debian's Chromium for the portal's browser tests

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else \
	  echo "The browser tests need Chromium: run 'sudo apt-get install chromium'" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium

test: $(GENERATED) pki browser ## install, generate, and run every test (SQLite unless DATABASE_URL says otherwise)
	$(PY) -m pytest $(PYTEST_ARGS)

test-storage: $(GENERATED) pki browser ## storage and integration tests only (CI runs them again on PostgreSQL)
	$(PY) -m pytest -m "(storage or integration) and not make_run" $(PYTEST_ARGS)

lint: $(GENERATED) ## buf lint on the contracts, ruff on the code
	$(BIN)/buf lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(GENERATED) pki ## benchmarks: figures and ratios printed
	$(PY) -m bench

lock: ## refresh constraints.txt: a fresh install of pyproject.toml's pins, frozen
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install -q -c constraints.txt '.[dev]'
	.lockvenv/bin/pip freeze --exclude-editable | grep -v '^carrefour' > constraints.txt
	rm -rf .lockvenv

clean: ## remove generated code, the venv and var/ (databases, PKI, logs)
	rm -rf $(GEN) $(GEN).new $(GEN).old $(VENV) var
