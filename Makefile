# Postern: the two commands a user needs are `make run` and `make test`.
NODE ?= node

.PHONY: all build run test unit clean deps bench

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

# Benchmarks against real Postfix and Dovecot (never part of `make test`); BENCH_QUICK=1 for a smoke run.
bench: build
	$(NODE) dist/bench/run.js

clean:
	rm -rf dist
