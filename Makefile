# vigie — build, run, test, benchmark. Every Go command gets the sqlite_fts5
# tag: without it go-sqlite3 has no full-text index and the store refuses.
GO      ?= go
TAGS    := sqlite_fts5
# SQLite's memory statistics take a process-wide mutex on every allocation:
# with it, two writer threads run barely faster than one (docs/storage.md).
export CGO_CFLAGS := -O2 -g -DSQLITE_DEFAULT_MEMSTATUS=0
GOFLAGS_BUILD := -tags $(TAGS) -trimpath
BIN     := bin

.PHONY: all build run test test-deps lint agents fuzz bench bench-go clean

all: build

build: $(BIN)/vigie $(BIN)/vigie-agent

$(BIN)/vigie: FORCE
	$(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/vigie

# The agent is pure Go: one static binary per platform.
$(BIN)/vigie-agent: FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./cmd/vigie-agent

AGENT_PLATFORMS := linux/amd64 linux/arm64 windows/amd64
agents:
	@for p in $(AGENT_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  echo "vigie-agent $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -o $(BIN)/vigie-agent-$$os-$$arch$$ext ./cmd/vigie-agent || exit 1; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) vet ./record/... ./forwarder/... ./cmd/vigie-agent/ || exit 1; \
	done

FORCE:

# Build and start the central server on the embedded default configuration.
run: build
	./$(BIN)/vigie serve

# Everything the tests need, then every test with the race detector.
test: test-deps lint agents
	$(GO) test -race -tags $(TAGS) -count=1 -timeout 20m ./...

# Real peers the tests drive: logger (bsdutils), rsyslog, PostgreSQL and chromium.
test-deps:
	@./.ci/test-deps

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...

# A short run of every fuzz target (FUZZTIME=5m for a long one).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -tags $(TAGS) -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Go micro-benchmarks, then the end-to-end harness beside rsyslog.
bench: bench-go
	$(GO) run ./bench/cmd/vigie-bench -vigie ./$(BIN)/vigie $(BENCHFLAGS)

bench-go: build
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./record/ ./collector/ ./store/...

clean:
	rm -rf $(BIN)
