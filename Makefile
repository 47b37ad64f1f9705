# Postern: the two commands a user needs are `make run` and `make test`.
NODE ?= node
TEST_FILES = $(shell find dist/test -name '*.test.js' 2>/dev/null | sort)

.PHONY: all build run test unit clean deps

all: build

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

build: deps
	npx tsc -p tsconfig.json

# Both daemons on the demo configuration, in the foreground (Ctrl-C stops them).
run: build
	$(NODE) dist/shared/cli/run-demo.js

# Every test: unit, protocol and interop (interop needs the Debian packages that .ci/run installs).
test: build
	$(NODE) --test --test-concurrency=2 --test-reporter=spec $(shell find dist/test -name '*.test.js' | sort)

clean:
	rm -rf dist
