# isolab: `make lab` runs every experiment and writes reports/latest/; `make test` runs the test suite.
# Both install what is missing (apt, npm ci), start dockerd/libvirtd, build, and are idempotent.
SHELL := /bin/bash
NODE_BIN := node_modules/.bin
SRC := $(shell find src -name '*.ts' ! -name '*.test.ts' 2>/dev/null)

.PHONY: lab test setup services deps build clean

setup:
	bash scripts/setup.sh all

deps:
	bash scripts/setup.sh npm

services:
	bash scripts/setup.sh services

dist/.built: $(SRC) tsconfig.json package-lock.json
	$(NODE_BIN)/tsc -p tsconfig.json
	touch $@

build: deps dist/.built

test: setup build
	bash scripts/lint.sh
	$(NODE_BIN)/vitest run

lab: setup build
	bin/isolab lab --out reports/latest

clean:
	rm -rf dist
