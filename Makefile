# recal — see README.md. `make run` and `make test` work on a fresh clone.
GO      ?= go
TOOLS   := $(CURDIR)/.tools/bin
S3SERVER := $(TOOLS)/versitygw
# DuckDB (duckdb-go, cgo) in its own module under testdata/duckdb: an
# independent engine for tests, never linked into recal.
DUCKDB  := $(TOOLS)/recal-duckdb
# The versitygw release the Go module proxy serves (see docs/libraries.md).
VERSITYGW_VERSION := v1.8.0
SAMPLE  := testdata/sample
OUT     := out/sample

.PHONY: all build run run-eoir eoir-sample test vet lint bench fuzz tools chromium umoci sevenzip image writer-files clean

all: build

# The version every build is stamped with (recal version, manifests'
# tool_version, part of the run id): git describe, and for a modified tree
# "-dirty-" plus a hash of the changes, so that two different builds never
# share a version. (These machines set GOFLAGS=-buildvcs=false, so a plain
# go build records no revision; without git it is "dev+<binary sha256>".)
VERSION ?= $(shell v=$$(git describe --tags --always 2>/dev/null) && \
	if [ -n "$$(git status --porcelain --untracked-files=normal 2>/dev/null)" ]; then \
	  v="$$v-dirty-$$( { git diff HEAD; git ls-files --others --exclude-standard | xargs -r cat; } | sha256sum | cut -c1-8)"; fi; echo $$v)
LDFLAGS = -X main.buildVersion=$(VERSION)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/recal ./cmd/recal

# The main job on the bundled sample: local files, no server needed. A
# rerun of the same build finds its run committed and does nothing; a build
# of other code has another version, so another run id, and --force lets it
# replace the sample output (out/ is a scratch folder).
run: build
	mkdir -p out
	./bin/recal run --input $(SAMPLE)/export --capacity $(SAMPLE)/capacity.csv \
		--closures $(SAMPLE)/closures.csv --policy castro-tum-2018 \
		--as-of 2026-01-15 --baseline-pending 3600000 --output $(OUT) --force 2> out/run.log
	@echo "log: out/run.log"

# The public-data way on the bundled small release (testdata/eoir-sample: a
# release of the national shape, zipped as EOIR's is, Deflate64 members
# included): import-eoir on the zip itself, with the capacity calendar it
# observes from tbl_schedule, then recal run on that export and calendar,
# then the report (docs/eoir-import.md).
EOIR_SAMPLE := testdata/eoir-sample/FOIA-TRAC-Report.zip
run-eoir: build
	mkdir -p out/eoir-sample
	./bin/recal import-eoir --release $(EOIR_SAMPLE) --output out/eoir-sample/input --force 2> out/eoir-sample/import.log
	./bin/recal run --input out/eoir-sample/input/export --capacity out/eoir-sample/input/capacity.csv \
		--policy castro-tum-2018 --as-of 2026-04-01 --output out/eoir-sample/run --force 2> out/eoir-sample/run.log
	@echo "logs: out/eoir-sample/import.log, out/eoir-sample/run.log"

# Regenerates the bundled release (recalbench release: eoirtest.National,
# 20,000 proceedings, zipped by 7zz).
eoir-sample: sevenzip
	$(GO) build -o bin/recalbench ./cmd/recalbench
	./bin/recalbench release 20000 $(EOIR_SAMPLE)

# The Versity S3 Gateway (versitygw), a real S3-compatible server used in
# production, built from source through the Go module proxy into a
# project-local tool folder. The tests run it on 127.0.0.1 over a POSIX
# directory. It is a test server, so it is built without optimisation
# (-N -l). It replaced MinIO, which took 253 s to build from a cold cache
# against its 109 s, and passes the same tests (docs/libraries.md).
$(S3SERVER):
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) GOFLAGS=-buildvcs=false CGO_ENABLED=0 $(GO) install -gcflags=all='-N -l' -ldflags='-s -w' github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

$(DUCKDB): testdata/duckdb/main.go testdata/duckdb/go.mod testdata/duckdb/go.sum
	mkdir -p $(TOOLS)
	cd testdata/duckdb && CGO_ENABLED=1 $(GO) build -o $(DUCKDB) .

# Debian's Chromium, for the headless-browser checks of the HTML reports.
# Installed once through apt (as root, or with sudo); package lists are
# refreshed only when the first attempt fails.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null || \
	  { $$SUDO apt-get update -q >/dev/null && \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null; }; }
	@chromium --version 2>/dev/null

# Debian's umoci, to build the OCI image without a container engine.
umoci:
	@command -v umoci >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends umoci >/dev/null || \
	  { $$SUDO apt-get update -q >/dev/null && \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends umoci >/dev/null; }; }
	@umoci --version

# Debian's 7-Zip (7zz), an independent zip writer with Deflate64, for the
# release-zip tests of import-eoir.
sevenzip:
	@command -v 7zz >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends 7zip >/dev/null || \
	  { $$SUDO apt-get update -q >/dev/null && \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends 7zip >/dev/null; }; }
	@7zz 2>/dev/null | sed -n 2p

# Debian's Prometheus Pushgateway, a real one for the metrics tests: the
# package is downloaded and only its binary extracted (installing it would
# register a system service).
PUSHGATEWAY := $(TOOLS)/pushgateway
$(PUSHGATEWAY):
	mkdir -p $(TOOLS) .tools/deb
	cd .tools/deb && { apt-get download -q prometheus-pushgateway >/dev/null 2>&1 || \
	  { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -q >/dev/null && apt-get download -q prometheus-pushgateway >/dev/null; }; }
	dpkg-deb -x .tools/deb/prometheus-pushgateway_*.deb .tools/deb/root
	cp .tools/deb/root/usr/bin/prometheus-pushgateway $(PUSHGATEWAY)
	rm -rf .tools/deb

tools: $(S3SERVER) $(DUCKDB) chromium umoci sevenzip $(PUSHGATEWAY)

# The container image as an OCI layout under out/image (tag: VERSION), from a
# static, trimmed binary, with umoci: no engine, no network, no base image
# (deploy/oci/build-image.sh; deploy/Dockerfile is the same image for
# engines). Push it with skopeo: skopeo copy oci:out/image:<VERSION> docker://…
image: umoci
	mkdir -p out
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o out/recal-static ./cmd/recal
	sh deploy/oci/build-image.sh out/recal-static out/image $(VERSION)

vet:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# staticcheck, pinned, through the Go module proxy. Not part of make test
# (it would add a cold compile of its own); run it before landing a change.
STATICCHECK_VERSION := v0.8.2
lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Two passes: the packages that run goroutines under the race detector in
# -short mode (one concurrent end-to-end run; heavy single-goroutine tests
# skip), then every test without it. S3 tests run against versitygw on
# 127.0.0.1, DuckDB-written exports and output checks through the DuckDB
# tool, HTML reports in headless Chromium. The tools build side by side
# (-j3): each Go build has serial link steps, and apt mostly waits on the
# network.
#
# The vet and plain passes build with CGO_ENABLED=0, as the shipped static
# binary is built (the runtime-contract and image tests build it that way),
# so that all three share one compile of the dependencies; the race
# detector needs cgo. The fuzzers' seed corpora run in the plain pass;
# fuzzing itself is make fuzz: its coverage-instrumented build of the
# standard library, arrow and cel-go takes 3 to 4 minutes from a cold
# cache, which would take make test past its 15 minutes on 2 cores
# (measured: docs/reliability.md, "Fuzzing").
TEST_ENV  := RECAL_S3_SERVER=$(S3SERVER) RECAL_DUCKDB=$(DUCKDB) RECAL_UMOCI=$$(command -v umoci) RECAL_PUSHGATEWAY=$(PUSHGATEWAY) RECAL_7ZZ=$$(command -v 7zz)
# The packages that start goroutines or are shared between them (the
# store, the calendar), with their tests of concurrent use.
RACE_PKGS := ./pipeline/claim/ ./pipeline/commit/ ./pipeline/release/ ./pipeline/job/... ./pipeline/source/... ./pipeline/gen/... ./pipeline/storage/... ./pipeline/sink/ ./pipeline/bufpool/... ./pipeline/collect/ ./pipeline/plan/ ./transforms/schedule/ ./transforms/idsort/
test:
	$(MAKE) -j3 tools
	CGO_ENABLED=0 $(MAKE) vet
	$(TEST_ENV) $(GO) test -race -short -count=1 -timeout 15m $(RACE_PKGS)
	$(TEST_ENV) CGO_ENABLED=0 $(GO) test -count=1 -timeout 15m ./...

# Fuzzing: each target for FUZZTIME (the parsers of everything a user
# hands recal: the export decoder, the policy loader, the capacity
# calendar, the URI parser, the scheduler on random groups, the release
# table reader and the Deflate64 decoder). Their seed
# corpora also run as plain tests in make test. Crashers land in each
# package's testdata/fuzz/ and should be committed with the fix.
FUZZTIME ?= 30s
FUZZ_TARGETS := ./pipeline/source:FuzzReadObject ./transforms/policy:FuzzLoad \
	./transforms/schedule:FuzzParseCapacity ./transforms/schedule:FuzzGroup ./pipeline/location/uri:FuzzParse \
	./pipeline/eoir:FuzzTable ./pipeline/deflate64:FuzzInflate ./transforms/observed:FuzzParseStart
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$fn in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg || exit 1; \
	done

# Performance (docs/performance.md): recal end to end against DuckDB on the
# same files, the pqarrow decode floor and recal from versitygw, at 1M and 10M
# rows (exports generated once into .bench/), then the Go micro-benchmarks
# (decoder, policy, scheduler, report, writer) in benchstat format.
BENCH_ROWS ?= 1000000,10000000
BENCH_REPS ?= 3
BENCH_EOIR ?= 16800000
bench: build $(S3SERVER) $(DUCKDB) sevenzip
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/recalbench ./cmd/recalbench
	./bin/recalbench -rows $(BENCH_ROWS) -eoir-proceedings $(BENCH_EOIR) -reps $(BENCH_REPS) -s3server $(S3SERVER) -duckdb $(DUCKDB) -7zz $$(command -v 7zz)
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./pipeline/source/ ./pipeline/sink/ ./transforms/policy/ ./transforms/schedule/ ./transforms/impact/ ./transforms/idsort/ | tee out/bench/micro.txt
	@echo "table: out/bench/table.md; micro-benchmarks (benchstat): out/bench/micro.txt"

# The writer-diversity suite's exports (testdata/writers/files): written by
# nodejs-polars, parquet-wasm (arrow-rs) and hyparquet-writer at the versions
# pinned in testdata/writers/package-lock.json. The files are committed, so
# make test needs no npm; this target regenerates them byte for byte.
writer-files:
	cd testdata/writers && npm ci --no-audit --no-fund && node gen.mjs files
	git status --short testdata/writers/files

clean:
	rm -rf bin out
