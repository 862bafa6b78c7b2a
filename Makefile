# ATIGIP 360. `make run` serves the demo at http://localhost:8080;
# `make test` runs every test. Both need only Go and Node.js.
GO        ?= go
BIN       := bin/atigip
WEB       := internal/web
WEB_STAMP := $(WEB)/node_modules/.atigip-built
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# Benchmarks: override BENCH to pick some, e.g. make bench BENCH=Tile PKG=./tiles
BENCH     ?= .
PKG       ?= ./...
# Pure Go by default: the binary and the tests need no C compiler or C
# headers (the OSM PBF reader would otherwise link the system's zlib).
# The race detector needs cgo, so `make race` turns it back on.
export CGO_ENABLED ?= 0

.PHONY: run build test race vulncheck lint unused bench bench-scale load web clean

run: build
	./$(BIN) serve

build: web
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/atigip

# Front-end packages come from npm, pinned by package-lock.json; the build
# copies what the pages load into $(WEB)/static/vendor (git-ignored).
web: $(WEB_STAMP)

$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json $(WEB)/build.mjs
	npm --prefix $(WEB) ci --no-audit --no-fund
	npm --prefix $(WEB) run build
	touch $@

test: web lint
	$(GO) test -count=1 -timeout 20m ./...

# The race detector over the packages that run goroutines (the HTTP server
# and the engines following the change feed, the CRM sync, the stores).
# The CRM sync's 20,000-partner runs are volume tests that `make test`
# runs; under the race detector (5-10x slower) they are skipped by -short,
# its other concurrent tests (16 workers, faults, kills) still run.
# The Chromium journeys run in `make test`; under the race detector their
# server is 5-10x slower and their layout checks race the page's own
# rendering, so they are skipped there (the same handlers run under -race
# in the package's other tests).
RACE_PKGS := ./internal/httpapi/... ./internal/store/... ./tiles/... ./search/... ./matching/... ./cmd/atigip/...
race: web
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 20m -skip 'InChromium' $(RACE_PKGS)
	CGO_ENABLED=1 $(GO) test -race -short -count=1 -timeout 20m ./crmsync/...

# govulncheck against an offline vulnerability database built from the
# golang.org/x/vulndb module (see .ci/vulncheck).
vulncheck:
	.ci/vulncheck

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# staticcheck's unused-identifier check, at a pinned version.
unused:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -checks U1000 ./...

bench: web
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -timeout 60m $(PKG)

# Ten times the country (opt-in, long: scale 10 seeds 700,000 records):
# the served set at scales 1 and 10 (seed, start, restart, memory, tiles,
# search, matching, global assignment), then the engines alone at scale 10.
# ATIGIP_BENCH_DIR keeps the seeded stores between runs.
bench-scale: web
	ATIGIP_BENCH_SCALES=1,10 $(GO) test ./cmd/atigip -run '^$$' -bench 'BenchmarkScale' -benchtime 1x -timeout 600m
	ATIGIP_BENCH_SCALE=10 $(GO) test ./tiles -run '^$$' -bench 'BenchmarkTileCold$$|BenchmarkTileWarm$$' -benchtime 20000x -timeout 60m
	ATIGIP_BENCH_SCALE=10 $(GO) test ./matching -run '^$$' -bench 'BenchmarkOffersForPerson$$|BenchmarkCandidatesForPost$$' -benchtime 1000x -timeout 60m
	ATIGIP_BENCH_SCALE=10 $(GO) test ./matching -run '^$$' -bench 'BenchmarkAssignNational/flow' -benchtime 1x -timeout 120m

# wrk over 20,000 shuffled tile paths against a served national set.
load: web
	tiles/bench/load.sh

clean:
	rm -rf bin var $(WEB)/node_modules $(WEB)/static/vendor
