# anycast-testbed: every target does its own set-up (scripts/install.sh is
# idempotent), so `sudo make demo` and `sudo make test` work on a fresh machine.
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest

.PHONY: install demo test unit integration lint schema bench clean

install:
	bash scripts/install.sh

## The main job: the default topology (later: the default scenario).
demo: install
	$(BIN)/anycast-testbed shell world --script scripts/demo.cli

## The whole test suite: unit tests (no root) and integration tests (root,
## real Mininet, FRR, NSD). Integration tests fail instead of skipping here.
test: install
	ANYCAST_REQUIRE_ROOT_TESTS=1 $(PYTEST) -q tests

unit: install
	$(PYTEST) -q tests/unit

integration: install
	ANYCAST_REQUIRE_ROOT_TESTS=1 $(PYTEST) -q tests/integration

lint: install
	$(BIN)/ruff check testbed tests bench

schema: install
	$(BIN)/python -m testbed.topology.schema > testbed/schema/topology.schema.json

bench: install
	$(BIN)/python bench/startup.py

## Remove what a killed testbed left behind (only its own processes and files).
clean:
	$(BIN)/anycast-testbed clean
