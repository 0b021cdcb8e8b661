# failcast: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := bin
OUT := out
# The demo world is fixed so that every run of `make demo` gives the same files.
DEMO_SEED ?= 42
DEMO_AS_OF ?= 2026-11-01T00:00:00Z
# Debian's own python3 sees Debian's python3-* packages (a python3 earlier on PATH may not).
PYTHON ?= /usr/bin/python3

# The VCS revision `failcast --version` prints when the build carries no
# VCS stamp of its own (GOFLAGS=-buildvcs=false, or a tree without .git).
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X github.com/failcast/failcast/internal/buildinfo.revision=$(REVISION)
# The container image: built with podman, else buildah (Debian packages).
IMAGE ?= failcast:dev
CONTAINER_BUILD ?= $(shell command -v podman >/dev/null 2>&1 && echo "podman build" || echo "buildah bud")

.PHONY: all build demo test test-faults test-long fuzz notebook-inputs notebooks bench bench-full bench-features static image image-multistage clean

all: build

## build: every command into bin/, failcast among them.
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

## static: bin/static/failcast, statically linked (cgo stays on: golearn's
## liblinear is C++), and the files the image needs beside it.
static:
	mkdir -p $(BIN)/static
	CGO_ENABLED=1 $(GO) build -trimpath -tags netgo,osusergo \
		-ldflags '-linkmode external -extldflags "-static" $(LDFLAGS)' -o $(BIN)/static/failcast ./cmd/failcast
	echo 'failcast:x:10001:10001:failcast:/nonexistent:/sbin/nologin' > $(BIN)/static/passwd
	echo 'failcast:x:10001:' > $(BIN)/static/group
	cp /etc/ssl/certs/ca-certificates.crt $(BIN)/static/ca-certificates.crt

## image: the container image $(IMAGE) from the host-built static binary
## (Containerfile: FROM scratch, nothing to download). See docs/container.md.
image: static
	$(CONTAINER_BUILD) -f Containerfile -t $(IMAGE) .

## image-multistage: the same image built inside a Go builder image
## (Dockerfile; needs to pull GO_IMAGE).
image-multistage:
	$(CONTAINER_BUILD) -f Dockerfile --build-arg REVISION=$(REVISION) -t $(IMAGE) .

## demo: simulate history, train a model, score the upcoming plan, write prediction CSVs.
demo: build
	$(BIN)/failcast simulate --seed $(DEMO_SEED) --as-of $(DEMO_AS_OF) --out $(OUT)/sim
	$(BIN)/failcast train --history $(OUT)/sim/history --as-of $(DEMO_AS_OF) --registry $(OUT)/registry --seed $(DEMO_SEED)
	$(BIN)/failcast score --plan $(OUT)/sim/plan.parquet --history $(OUT)/sim/history --as-of $(DEMO_AS_OF) \
		--registry $(OUT)/registry --out $(OUT)/score --outcomes $(OUT)/sim/outcomes.parquet \
		--tokens $(OUT)/sim/tokens.csv --reasons flagged

## test: unit, property, example and fuzz-seed tests (fast mode).
test:
	$(GO) vet ./...
	$(GO) test -short -count=1 ./...

## fuzz: every fuzz target (FuzzX in any package) for FUZZTIME each (default 10s), one after another.
FUZZTIME ?= 10s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

## test-faults: the fault suite (issue 12): every input or crash case that once gave a quietly
## wrong answer, each showing its defined outcome (TestFault* tests, next to the code they test).
test-faults:
	$(GO) test -count=1 -run 'Fault' ./...

## test-long: the whole suite, slow tests included.
test-long:
	$(GO) test -count=1 ./...

## notebook-inputs: the files the notebooks read: the demo's outputs, and the plan's outcomes derived
## as a user would (docs/outcomes.md): the simulator's raw logs of the plan period, exported, joined.
notebook-inputs: demo
	$(BIN)/failcast simulate --seed $(DEMO_SEED) --as-of $(DEMO_AS_OF) --raw --out $(OUT)/sim-raw
	FAILCAST_HASH_KEY=$${FAILCAST_HASH_KEY:-failcast-demo} $(BIN)/failcast export --send-log $(OUT)/sim-raw/raw/plan/send-log.ndjson \
		--webhooks $(OUT)/sim-raw/raw/plan/webhooks.ndjson --out $(OUT)/history-after
	FAILCAST_HASH_KEY=$${FAILCAST_HASH_KEY:-failcast-demo} $(BIN)/failcast outcomes --plan $(OUT)/sim/plan.parquet \
		--history $(OUT)/history-after --out $(OUT)/outcomes.csv

## notebooks: execute every notebook headless on fresh demo outputs.
notebooks: notebook-inputs
	cd notebooks && for nb in *.ipynb; do \
		$(PYTHON) -m jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
			--output-dir ../$(OUT)/notebooks "$$nb" || exit 1; \
	done

## bench: measure every stage at the quick scale; bench-full at the full scale.
bench:
	bash bench/run

bench-full:
	bash bench/run --full

## bench-features: the feature engine on ~12.7M events and 1M+ recipients (~2 min).
bench-features:
	bash bench/features

clean:
	rm -rf $(BIN) $(OUT)
