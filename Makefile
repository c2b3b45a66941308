# immersionday.ha_web — the HA web lab as code.
#   make demo   set up, start the embedded cloud, deploy the lab, print a summary
#   make test   lint, sanity, unit, application and integration tests, molecule
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export HA_WEB_CLOUD_PORT := $(PORT)
CLOUD_URL := http://127.0.0.1:$(PORT)
# The embedded cloud unless the user points somewhere else.
export AWS_ENDPOINT_URL ?= $(CLOUD_URL)
PLAYBOOK := $(BIN)/ansible-playbook -i inventories/local

.PHONY: setup cloud-up cloud-down cloud-status demo deploy teardown load-test test lint sanity units \
        pytest integration molecule bench test-reliability build clean

setup:
	@scripts/setup.sh

cloud-up: setup
	@scripts/cloud.sh up

cloud-down:
	@scripts/cloud.sh down

cloud-status:
	@scripts/cloud.sh status

# Leaves the embedded cloud running so that you can look around; `make teardown cloud-down` ends it.
demo: cloud-up
	$(PLAYBOOK) playbooks/site.yml
	@echo "The embedded cloud keeps running at $(CLOUD_URL): 'make teardown' removes the stack, 'make cloud-down' stops it."

deploy: setup
	$(PLAYBOOK) playbooks/site.yml

teardown: setup
	$(PLAYBOOK) playbooks/teardown.yml

load-test: setup
	$(PLAYBOOK) playbooks/load_test.yml

test: setup lint sanity units pytest integration molecule

lint: setup
	$(BIN)/ansible-lint --offline

sanity: setup
	scripts/ansible-test.sh sanity

units: setup
	scripts/ansible-test.sh units

# Plain pytest: module_utils and module unit tests, the sample application, the test proxy,
# and local end-to-end tests (each starts its own servers on loopback).
pytest: setup
	$(BIN)/python -m pytest -q tests/unit tests/app tests/proxy tests/integration

integration: setup
	tests/integration/run.sh

molecule: setup
	scripts/molecule.sh

bench: setup
	$(BIN)/python scripts/bench.py --repeat $(or $(REPEAT),3) --json bench/results/bench.json

build: setup
	$(BIN)/ansible-galaxy collection build --force --output-path .build/

clean:
	rm -rf .build outputs tests/output
