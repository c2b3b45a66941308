# immersionday.ha_web — the HA web lab as code.
#   make demo   set up, start the embedded cloud, deploy the lab, print a summary
#   make test   lint, sanity, unit, application and integration tests, molecule
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The embedded cloud's URL: port HA_WEB_CLOUD_PORT, else the one `make cloud-up` remembered, else 5000.
# (A port given as a make argument, `make demo HA_WEB_CLOUD_PORT=5001`, reaches $(shell) only so.)
CLOUD_URL := $(shell HA_WEB_CLOUD_PORT='$(HA_WEB_CLOUD_PORT)' scripts/cloud.sh url)
# make bench: the slow cloud's scale factor (empty: instant cloud only) and the stack counts.
SLOW ?= 20
STACKS ?= 1,4
# The embedded cloud unless the user points somewhere else.
export AWS_ENDPOINT_URL ?= $(CLOUD_URL)
# Only then must the embedded cloud run: else the stack's calls would go to whatever holds the port.
CLOUD_CHECK := $(if $(filter file,$(origin AWS_ENDPOINT_URL)),@scripts/cloud.sh check)
# More ansible-playbook arguments, e.g. make demo ARGS='-e stack_name=blue'
ARGS ?=
PLAYBOOK := $(BIN)/ansible-playbook -i inventories/local

.PHONY: setup cloud-up cloud-down cloud-status demo deploy teardown load-test test lint sanity units \
        unit-quick pytest molecule bench bench-load test-reliability build ee-context changelog lock clean

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
	$(PLAYBOOK) playbooks/site.yml $(ARGS)
	@echo "The embedded cloud keeps running at $(CLOUD_URL) (remembered): 'make teardown' removes the stack, 'make cloud-down' stops it."

deploy: setup
	$(CLOUD_CHECK)
	$(PLAYBOOK) playbooks/site.yml $(ARGS)

teardown: setup
	$(CLOUD_CHECK)
	$(PLAYBOOK) playbooks/teardown.yml $(ARGS)

load-test: setup
	$(CLOUD_CHECK)
	$(PLAYBOOK) playbooks/load_test.yml $(ARGS)

test: setup lint sanity units pytest molecule

lint: setup
	$(BIN)/ansible-lint --offline

sanity: setup
	scripts/ansible-test.sh sanity

units: setup
	scripts/ansible-test.sh units

# Plain pytest (the unit tests run under ansible-test units): the sample application, the test
# proxy, the lab end to end, the load test on loopback, the benchmark's shape, and the bounded
# CI samples of the reliability and security suites. Each test starts its own servers on loopback.
PYTEST_SUITES := tests/app tests/proxy tests/integration tests/bench tests/reliability tests/security
# Two workers, one test file each at a time (a file's tests share their deployed stack): most of a
# test is waiting on a playbook, and each test has its own servers and ports.
PYTEST_WORKERS ?= 2
pytest: setup
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_SUITES)

# Unit tests without ansible-test (quick, while developing).
unit-quick: setup
	$(BIN)/python -m pytest -q tests/unit

# Every interruption point, every seed: longer than CI's sample.
test-reliability: setup
	HA_WEB_TEST_SCOPE=full $(BIN)/python -m pytest -q tests/reliability

molecule: setup
	scripts/molecule.sh

# Every figure of the benchmark in one run (7-13 min): one stack, 4 stacks in parallel, the slow cloud (AWS waits / 20).
# REPEAT=1 SLOW= STACKS=1 make bench: one stack on the instant cloud only (~30 s).
bench: setup
	$(BIN)/python scripts/bench.py --repeat $(or $(REPEAT),3) $(if $(SLOW),--slow $(SLOW)) --stacks $(STACKS) \
	    --json bench/results/bench.json

# The load generator against the sample app on loopback: requests/s and its own CPU cost.
bench-load: setup
	$(BIN)/python scripts/loadgen_bench.py --seconds 10 --concurrency 1,4,8,16 --repeat $(or $(REPEAT),3)

build: setup
	$(BIN)/ansible-galaxy collection build --force --output-path .build/

# The execution environment's build context in .build/ee (offline). Building the image needs a
# container engine and the internet: $(BIN)/ansible-builder build -f execution-environment.yml
ee-context: build
	$(BIN)/ansible-builder create -f execution-environment.yml -c .build/ee

# CHANGELOG.rst from changelogs/: the fragments join the release of galaxy.yml's version
# (antsibull-changelog lists the new plugins with ansible-doc, found through ansible.cfg).
changelog: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/antsibull-changelog release --update-existing

# constraints.txt anew: the newest versions that requirements-test.txt admits, installed into a
# scratch venv and frozen. Then make test: a clean clone installs exactly these.
lock:
	rm -rf .build/lock-venv && python3 -m venv .build/lock-venv
	.build/lock-venv/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
	{ sed -n '/^#/p' constraints.txt; .build/lock-venv/bin/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .build/lock-venv
	@git diff --stat -- constraints.txt

clean:
	rm -rf .build outputs tests/output
