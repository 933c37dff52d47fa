# Build and test entry points for the novita.cloud collection.
# Everything runs from .venv, which `make venv` builds from tools/requirements.txt
# with $(PYTHON); nothing else needs installing by hand.

PYTHON ?= python3
export PYTHON

VENV := .venv
VENV_STAMP := $(VENV)/.requirements.sha256

.DEFAULT_GOAL := help

# make install copies the collection here (COLLECTIONS_PATH=DIR on the command line).
COLLECTIONS_PATH ?= $(HOME)/.ansible/collections

.PHONY: help venv stage test test-matrix docs-site sanity units integration lint docs changelog build readme examples galaxy ee runner \
	faults badinput secrets race livecheck adopt clients eda dev demo install bench live-check generate clean

help:
	@echo "make dev          link this checkout as novita.cloud (.tmp/dev/collections), ansible-core in .tmp/venv-run;"
	@echo "                  prints the export line that puts both in your shell"
	@echo "make demo         run examples/endpoint.yml against the local emulator (needs only ansible-core)"
	@echo "make install      build the collection and install it into COLLECTIONS_PATH=$(COLLECTIONS_PATH)"
	@echo "make venv         create/update .venv (the dev venv) from tools/requirements.txt"
	@echo "make test         all checks: sanity units integration lint docs changelog build readme examples adopt galaxy ee"
	@echo "                  runner faults badinput secrets race livecheck (the live check against the emulator)"
	@echo "                  clients (the novita CLI and novita-sdk against the emulator) eda (ansible-rulebook end to end)"
	@echo "make sanity|units|integration|lint|docs|changelog|build|readme|examples|adopt|galaxy|ee|runner|faults|badinput"
	@echo "     |secrets|race|livecheck|clients|eda  one check"
	@echo "make test-matrix  sanity, units, integration on ansible-core 2.16/py3.11, 2.19/py3.11, 2.21/py3.12"
	@echo "make docs-site    build the HTML docs site into .tmp/docsite/build/html"
	@echo "make bench        request counts and timings against the emulator (BENCH_ARGS=--latency 20); writes docs/benchmark.md"
	@echo "make live-check   compare the real API with the emulator, read-only (needs NOVITA_API_KEY and python3 alone;"
	@echo "                  LIVE_CHECK_ARGS=--write also creates and deletes one small endpoint, with ansible-core"
	@echo "                  from .tmp/venv-run); see README"
	@echo "make generate     write the modules' generated docs from the schema (plugins/module_utils), the version from galaxy.yml"
	@echo "                  and the event source's reference page from its DOCUMENTATION"
	@echo "make stage        copy the collection to .tmp/collections/ansible_collections/novita/cloud"
	@echo "make clean        remove .venv, .tmp and test leftovers"
	@echo "Logs: .tmp/logs/<step>.log. Python: PYTHON=$(PYTHON)"

venv: $(VENV_STAMP)

# Re-installs only when tools/requirements.txt changed (ensure-venv.sh also
# compares the file's hash, so a touched-but-equal file costs nothing).
$(VENV_STAMP): tools/requirements.txt tools/constraints.txt
	@tools/ensure-venv.sh

stage: venv
	@tools/stage.sh

test: venv
	@tools/run-tests.sh

sanity units integration lint docs changelog build readme examples adopt galaxy ee runner faults badinput secrets race livecheck clients eda: venv
	@tools/run-tests.sh $@

test-matrix: venv
	@tools/test-matrix.sh

docs-site: stage
	@tools/docs-site.sh

# dev, demo and install need only ansible-core: .tmp/venv-run (tools/requirements-run.txt), not .venv.
dev:
	@tools/dev.sh

demo:
	@tools/demo.sh

install:
	@COLLECTIONS_PATH="$(COLLECTIONS_PATH)" tools/install.sh

# The generated blocks of the modules' docs, from each resource's schema in plugins/module_utils (see README, Development),
# and the event source's reference page from its DOCUMENTATION (tools/eda_docs.py).
generate: venv
	@$(VENV)/bin/python tools/schema_docs.py
	@$(VENV)/bin/python tools/eda_docs.py

bench: venv
	@$(VENV)/bin/python tools/bench.py $(BENCH_ARGS)

# The live contract check against the real API (NOVITA_API_KEY, NOVITA_API_BASE_URL): run by hand,
# never by make test or CI, whose livecheck step runs it against the emulator instead. Standard library
# only: no venv; --write finds ansible-playbook in .venv or builds .tmp/venv-run (ansible-core alone).
live-check:
	@$(PYTHON) tools/live_check.py $(LIVE_CHECK_ARGS)

clean:
	rm -rf $(VENV) .tmp tests/output tests/integration/inventory .ansible collections .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
