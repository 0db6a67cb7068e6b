# deskfleet: the two commands a newcomer needs are `make demo` and `make test`.
SHELL   := bash
.SHELLFLAGS := -eo pipefail -c
GO      ?= go
BIN     := bin/deskfleet
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build test cross shape demo bench soak fuzz fuzz-all generate fmt

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/deskfleet

# The three release builds first (cross), PostgreSQL's server programs for the state/postgres tests
# (installed when missing), Chromium for the fleet report's browser test (installed when missing, and
# required: DESKFLEET_REQUIRE_BROWSER=1 makes its absence a failure, not a skip), vet, then every test
# with the race detector; fuzz seed corpora run as ordinary tests. The CLI tests run their own test
# binary as deskfleet (its crash hook is in a _test.go file).
test: cross
	./scripts/ensure-postgres.sh
	./scripts/ensure-chromium.sh
	$(GO) vet ./...
	DESKFLEET_REQUIRE_BROWSER=1 $(GO) test -race -count=1 -timeout 15m ./...

# Every package builds for Linux, macOS and Windows: unix-only calls live in build-tagged files.
cross:
	GOOS=linux $(GO) build ./...
	GOOS=darwin $(GO) build ./...
	GOOS=windows $(GO) build ./...

# Size and portability figures of the code, reported (scripts/shape.sh); `make shape ARGS=--check`
# exits non-zero when one is over its limit.
shape:
	./scripts/shape.sh $(ARGS)

demo: build
	./scripts/demo.sh $(BIN)

# Benchmarks against the emulator; figures with a bound are summed up as a table (scripts/benchtable.sh),
# which exits non-zero when a figure is over its bound; so does the target when a benchmark fails.
# The figures (BENCH_FIGURES, docs/performance.md) run their workload once per op (-benchtime=1x: each
# is seconds to minutes of work, hours of simulated cloud time included); the other benchmarks run at
# the default benchtime.
BENCH_FIGURES = Apply200|ApplyCalls|Delete1000|PlanInSync|Plan10000|FaultConvergence|ScheduleWeek
bench:
	{ rc=0; \
	  $(GO) test -run '^$$' -bench '$(BENCH_FIGURES)' -benchtime=1x -benchmem -timeout 30m ./... || rc=1; \
	  $(GO) test -run '^$$' -bench . -skip '$(BENCH_FIGURES)' -benchmem -timeout 30m ./... || rc=1; \
	  exit $$rc; } | ./scripts/benchtable.sh

# The reliability figures on their full seed counts (faults, crashes, creates answered 5xx after their
# work), each printed; non-zero when one is under its bound (scripts/soak.sh). A few minutes.
soak:
	./scripts/soak.sh

# One minute of coverage-guided fuzzing of the spec loader; fuzz-all adds a minute for each other
# boundary that reads untrusted input (schema validation, API responses, the emulator's requests).
# The committed seed corpora (testdata/fuzz/) run as ordinary tests in `make test`.
FUZZ = $(GO) test $(1) -run '^$$' -fuzz '^$(2)$$' -fuzztime 1m -fuzzminimizetime 5s
fuzz:
	$(call FUZZ,./spec,FuzzLoad)

fuzz-all: fuzz
	$(call FUZZ,./schema,FuzzValidate)
	$(call FUZZ,./provider/gcw,FuzzDecodeResponse)
	$(call FUZZ,./provider/sim,FuzzServeHTTP)
	$(call FUZZ,./engine,FuzzLoadPlan)
	$(call FUZZ,./state,FuzzUnsealRecord)

generate:
	$(GO) generate ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
