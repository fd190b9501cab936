# isolab: `make lab` runs every experiment and writes reports/latest/; `make test` runs the test suite.
# Both install what is missing (apt, npm ci), start dockerd/libvirtd, build, and are idempotent.
# `make setup-plan` (scripts/setup.sh --dry-run) prints what setup would change on this host.
SHELL := /bin/bash
NODE_BIN := node_modules/.bin
SRC := $(shell find src -name '*.ts' ! -name '*.test.ts' 2>/dev/null)

.PHONY: lab test setup setup-plan services deps build image clean

setup:
	bash scripts/setup.sh all

setup-plan:
	bash scripts/setup.sh --dry-run all

deps:
	bash scripts/setup.sh npm

services:
	bash scripts/setup.sh services

dist/.built: $(SRC) tsconfig.json package-lock.json
	$(NODE_BIN)/tsc -p tsconfig.json
	touch $@

build: deps dist/.built

# The guest image (Docker image + VM disk + kernel/initramfs); content-addressed, so a no-op when nothing changed.
image: build
	bin/isolab image build

# VM tests boot TCG guests on 2 cores: they run after the rest, one file at a time, so they do not starve other tests.
# ISOLAB_TEST_REQUIRE_ALL=1: setup installed every tool, so a test that would skip for a missing one fails instead.
test: setup build image
	bash scripts/lint.sh
	ISOLAB_TEST_REQUIRE_ALL=1 $(NODE_BIN)/vitest run --exclude 'test/vm/**'
	ISOLAB_TEST_REQUIRE_ALL=1 $(NODE_BIN)/vitest run --no-file-parallelism test/vm

lab: setup build image
	bin/isolab lab --out reports/latest

clean:
	rm -rf dist
