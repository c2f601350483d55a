# anycast-testbed: every target does its own set-up (scripts/install.sh is
# idempotent), so `sudo make demo` and `sudo make test` work on a fresh machine.
# The virtualenv: .venv, unless this machine's /etc/anycast-testbed/env says
# otherwise (the Vagrant VM: VENV=/opt/anycast-venv) or `make VENV=...`.
ANYCAST_ENV_FILE ?= /etc/anycast-testbed/env
-include $(ANYCAST_ENV_FILE)
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest

.PHONY: install demo tour test unit integration lint schema bench clean student-dist

install:
	VENV=$(VENV) bash scripts/install.sh

## The main job: the default scenario (site-failure on world), with its report.
demo: install
	$(BIN)/anycast-testbed run site-failure

## A guided look at the routing state of world (Mininet CLI, scripted).
tour: install
	$(BIN)/anycast-testbed shell world --script scripts/demo.cli

## The whole test suite: unit tests (no root; in parallel, one worker per
## core) and integration tests (root, real Mininet, FRR, NSD; one at a time,
## as only one Mininet may run). Integration tests fail instead of skipping
## here; the slowest are listed at the end.
test: install lint
	ANYCAST_REQUIRE_ROOT_TESTS=1 $(PYTEST) -q -n auto tests/unit
	ANYCAST_REQUIRE_ROOT_TESTS=1 $(PYTEST) -q --durations=15 tests/integration

## Unit tests need no root, only the virtualenv: made (as root) by install.sh
## when it is missing, used as it is when it exists.
unit: $(BIN)/python
	$(PYTEST) -q -n auto tests/unit

$(BIN)/python:
	VENV=$(VENV) bash scripts/install.sh

integration: install
	ANYCAST_REQUIRE_ROOT_TESTS=1 $(PYTEST) -q tests/integration

## Style and types: ruff (lint and format) and mypy on the files pyproject.toml lists.
lint: install
	$(BIN)/ruff check testbed tests bench
	$(BIN)/ruff format --check testbed tests bench
	$(BIN)/mypy

schema: install
	$(BIN)/python -m testbed.topology.schema > testbed/schema/topology.schema.json
	$(BIN)/python -m testbed.scenario.schema > testbed/schema/scenario.schema.json
	$(BIN)/python -m testbed.analysis.schema > testbed/schema/summary.schema.json

bench: install
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/run.py
	$(BIN)/python bench/load.py

## Remove what a killed testbed left behind (only its own processes and files).
clean:
	$(BIN)/anycast-testbed clean

## The student build: dist/anycast-testbed-student.tar.gz, without labs/solutions/,
## the `lab solution` command and the tests (labs/README.md, trust model).
student-dist:
	python3 scripts/student_dist.py --out dist
