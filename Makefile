# The test command of README.md. CI runs it through .ci/run, which first
# installs and starts what it needs (PostgreSQL, Chromium, oathtool, zbar-tools,
# the npm packages) and sets OPENMITID_TEST_POSTGRES and CI=true.
GO ?= go
export GOTOOLCHAIN := local
CHROMIUM ?= /usr/bin/chromium

.PHONY: test vet fmt-check build go-test robustness e2e

test: vet fmt-check go-test robustness e2e

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

go-test:
	$(GO) test -race -timeout 30m ./...

# internal/robustness: several nodes behind a balancer, SIGKILL, a PostgreSQL
# restart, attackers beside honest users. They start processes and compare
# rates, so they run alone, after the other packages (docs/performance.md).
robustness:
	OPENMITID_ROBUSTNESS=1 $(GO) test -race -count=1 -timeout 20m ./internal/robustness/

build:
	$(GO) build -o bin/openmitid ./cmd/openmitid

# Browser tests: Debian's Chromium driven by playwright-core, tokens verified by
# openid-client. Outside CI they are skipped when Chromium or the npm packages
# are missing; under CI=true that is a failure.
e2e: build
	@if [ ! -x "$(CHROMIUM)" ] || [ ! -d e2e/node_modules ]; then \
		if [ "$$CI" = "true" ]; then echo "e2e: Chromium or e2e/node_modules missing (run .ci/run's installs)"; exit 1; fi; \
		echo "e2e: skipped: install chromium and run 'npm ci' in e2e/ to run the browser tests"; exit 0; fi
	cd e2e && node --test --test-concurrency=1 tests/
