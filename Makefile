# The test command of README.md. CI runs it through .ci/run, which first
# installs and starts what it needs and sets OPENMITID_TEST_POSTGRES.
GO ?= go
export GOTOOLCHAIN := local

.PHONY: test vet fmt-check build

test: vet fmt-check
	$(GO) test -race -timeout 30m ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

build:
	$(GO) build -o bin/openmitid ./cmd/openmitid
