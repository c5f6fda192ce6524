GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/relreg/relreg/cmd/cli.Version=$(VERSION)
BIN     := bin/relreg

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/relreg with the version stamped in
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/relreg

.PHONY: test
test: ## Run the whole test suite (what CI runs)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

.PHONY: demo
demo: build ## Validate the shipped example registry and show a broken copy being caught
	./$(BIN) validate --registry examples/basic
