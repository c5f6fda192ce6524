GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/relreg/relreg/cmd/cli.Version=$(VERSION)
BIN      := bin/relreg
FUZZTIME ?= 5s
FUZZLONG ?= 10s
# Go minimizes every input that finds new coverage for up to 60 s and counts
# none of that as an exec; a few seconds keep the fuzzers fuzzing.
FUZZMIN  ?= 2s
FUZZ     := $(GO) test -run '^$$' -fuzzminimizetime $(FUZZMIN)

# Go's default install location, so that `make` works on a fresh machine
# whose PATH does not name it yet.
export PATH := $(PATH):/usr/local/go/bin

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/relreg with the version stamped in
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/relreg

.PHONY: install
install: ## Install relreg into $(go env GOBIN) or $(go env GOPATH)/bin
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/relreg

.PHONY: test
test: ## Run the whole test suite, as CI does: vet, gofmt, race tests, short fuzz runs
	$(GO) vet ./...
	@$(MAKE) --no-print-directory fmt-check
	$(GO) test -race -count=1 ./...
	$(FUZZ) -fuzz '^FuzzParseYAML$$' -fuzztime $(FUZZTIME) ./registry
	$(FUZZ) -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./registry
	$(FUZZ) -fuzz '^FuzzTreeEntries$$' -fuzztime $(FUZZTIME) ./registry
	$(FUZZ) -fuzz '^FuzzSSHSIG$$' -fuzztime $(FUZZTIME) ./registry
	$(FUZZ) -fuzz '^FuzzVerifyApproval$$' -fuzztime $(FUZZTIME) ./registry
	$(FUZZ) -fuzz '^FuzzAppendApproval$$' -fuzztime $(FUZZTIME) ./registry
	$(FUZZ) -fuzz '^FuzzValidateSchema$$' -fuzztime $(FUZZTIME) ./validate

.PHONY: fmt-check
fmt-check: ## Fail when a Go file is not gofmt-formatted
	@files="$$(gofmt -l .)"; if [ -n "$$files" ]; then echo "gofmt -w these files:"; echo "$$files"; exit 1; fi

.PHONY: lint
lint: fmt-check ## go vet, gofmt and go mod tidy leave nothing to change
	$(GO) vet ./...
	$(GO) mod tidy -diff

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZLONG each, one after the other (FUZZLONG=10m make fuzz)
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$target ($$pkg, $(FUZZLONG))"; \
			$(FUZZ) -fuzz "^$$target\$$" -fuzztime $(FUZZLONG) $$pkg; \
		done; \
	done

.PHONY: bench
bench: ## Run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: stress
stress: build ## Replay hostile inputs against bin/relreg: exit code, time and peak RSS of each (needs git)
	$(GO) run ./cmd/relreg-stress -relreg $(BIN)

.PHONY: demo
demo: build ## Validate the example registry, then watch a broken copy get caught
	@RELREG="$(CURDIR)/$(BIN)" bash -c "$$DEMO"

.PHONY: clean
clean: ## Remove bin/
	rm -rf bin

# The demo: a shell script, so that it reads top to bottom.
define DEMO
set -euo pipefail
say() { printf '\n== %s\n' "$$*"; }
run() { printf '$$ %s\n' "$$*"; "$$@"; }
# fails runs a command that must exit 1 (diagnostics found).
fails() {
	set +e
	run "$$@"
	code=$$?
	set -e
	echo "exit $$code"
	if [ "$$code" -ne 1 ]; then echo "demo: expected exit 1" >&2; exit 1; fi
}

say "A valid registry: relreg validate prints nothing and exits 0"
run "$$RELREG" validate --registry examples/basic
echo "exit 0"

tmp="$$(mktemp -d)"
trap 'rm -rf "$$tmp"' EXIT
cp -R examples/basic/. "$$tmp/"
cd "$$tmp"

say "Break a copy in three ways"
echo "1. payments 2.5.0 (a minor release after 2.4.0) renamed to 2.6.0: a minor bump skipped"
sed 's/^  version: 2\.5\.0$$/  version: 2.6.0/' releases/payments/2.5.0.yaml > releases/payments/2.6.0.yaml
rm releases/payments/2.5.0.yaml
echo "2. services/payments.yaml: spec.title written twice"
awk '{ print } /^  title:/ { print }' services/payments.yaml > services/payments.yaml.new
mv services/payments.yaml.new services/payments.yaml
echo "3. payments 2.4.0 (accepted) names payments-db-migrations 1.5.1, which is not in the DML"
sed 's/name: payments-db-migrations, version: 1\.5\.0/name: payments-db-migrations, version: 1.5.1/' \
	releases/payments/2.4.0.yaml > releases/payments/2.4.0.yaml.new
mv releases/payments/2.4.0.yaml.new releases/payments/2.4.0.yaml

say "relreg validate catches all three and exits 1"
fails "$$RELREG" validate

# ---------------------------------------------------------------------------
# A merge request, in a git repository made from a fresh copy.
# ---------------------------------------------------------------------------
mkdir "$$tmp/repo"
cp -R "$(CURDIR)/examples/basic/." "$$tmp/repo/"
cd "$$tmp/repo"
git init -q -b main
git add -A
git -c user.name=Demo -c user.email=demo@acme.example commit -q -m "acme-production registry"
git checkout -q -b plan-payments-2.5.0

say "A merge request moves payments 2.5.0 from draft to planned, without approvals"
sed 's/^  phase: draft$$/  phase: planned/' releases/payments/2.5.0.yaml > releases/payments/2.5.0.yaml.new
mv releases/payments/2.5.0.yaml.new releases/payments/2.5.0.yaml
fails "$$RELREG" check --base main --now 2026-11-24T12:00:00Z

say "Alice, a release manager, signs the plan with her (demo) key; the change passes"
run "$$RELREG" digest payments@2.5.0
run "$$RELREG" approve payments@2.5.0 --step plan --as alice --role release-manager \
	--key demo-keys/alice --at 2026-11-24T10:00:00Z
tail -n 12 releases/payments/2.5.0.yaml
run "$$RELREG" check --base main --now 2026-11-24T12:00:00Z
echo "exit 0"

say "Backdating the approval breaks its signature"
sed 's/^    at: 2026-11-24T10:00:00Z$$/    at: 2026-11-23T10:00:00Z/' releases/payments/2.5.0.yaml > releases/payments/2.5.0.yaml.new
mv releases/payments/2.5.0.yaml.new releases/payments/2.5.0.yaml
fails "$$RELREG" check --base main --now 2026-11-24T12:00:00Z

say "Done: the demo ran as expected"
endef
export DEMO
