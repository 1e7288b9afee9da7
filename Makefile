# EmergenceLens. A fresh machine needs only: make study (the main job) and make test (all tests).
#
# Python for the interop tests: Debian's /usr/bin/python3 (NOT pyenv's python3 on PATH), because
# Debian's python3-h5py and python3-numpy install for it; safetensors is PyPI-only and is installed
# with pip into .pydeps/ for that same interpreter.
INTEROP_PY ?= /usr/bin/python3
APT_PKGS := libopenblas-dev libhdf5-dev pkg-config python3-h5py python3-numpy python3-pip
SWIFT ?= swift
LENS := .build/release/lens
export INTEROP_PY

.PHONY: all deps pydeps build test test-tl test-tl-patch fuzz study study-full bench bench-train bench-dump clean

all: build

# Installs the Debian packages that are missing (as root), or prints the exact command to run.
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing Debian packages; run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

pydeps: deps .pydeps/safetensors
.pydeps/safetensors:
	$(INTEROP_PY) -m pip install --quiet --disable-pip-version-check --target .pydeps safetensors

build: deps
	$(SWIFT) build -c release --product lens

test: deps pydeps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The fuzz suite at length (Tests/FuzzTests; `make test` runs a 24-case sample of each family on the
# debug build): hostile checkpoints, activation files, YAML specs and command lines, run against the
# release binary, whose -Ounchecked modules turn a missed check into garbage rather than a trap.
# FUZZ_SEED picks other cases; a failure prints the seed and case that replay it.
FUZZ_CASES ?= 500
FUZZ_SEED ?= 20261130
fuzz: build pydeps
	$(SWIFT) build --build-tests
	LENS_FUZZ_BIN=$(CURDIR)/$(LENS) LENS_FUZZ_CASES=$(FUZZ_CASES) LENS_FUZZ_SEED=$(FUZZ_SEED) \
	  $(SWIFT) test --skip-build --filter FuzzTests

# Every hook against TransformerLens 3.9 (torch is too large for `make test`); needs the peers' venv
# (../shared/peers/README.md): python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch h5py numpy safetensors "transformer-lens<4"
PEER_PY ?= /tmp/peers/bin/python
test-tl: build
	scripts/tl-hooks-check.sh $(PEER_PY)

# Every activation-patching kind against TransformerLens's transformer_lens.patching on the committed
# checkpoint and minimal pairs of `sub`, then lens patch's own pairs: every kind, direct logit attribution
# and the logit lens (same venv as test-tl).
test-tl-patch: build
	scripts/tl-patch-check.sh $(PEER_PY)

# The default study: sweep model sizes x seeds, dump every run's residual stream at every checkpoint,
# fit every shipped probe on all of it, then print where the results are.
STUDY_OUT ?= runs/default
# Exact patching of every shipped kind at every checkpoint does not fit the study's time on 2 cores:
# attribution runs at every checkpoint, exact patching at these (study-full: at all of them).
PATCH_EXACT ?= 1000,last
study: build
	@start=$$(date +%s); $(LENS) sweep --out $(STUDY_OUT) || exit 1; \
	  echo "sweep took $$(( $$(date +%s) - start )) s"
	@$(INTEROP_PY) scripts/study-table.py $(STUDY_OUT)
	@start=$$(date +%s); for r in $(STUDY_OUT)/*/; do \
	  [ -f $$r/run.json ] || continue; \
	  $(LENS) dump --run $$r --hooks 'blocks.*.hook_resid_post' --n 200 --for-probes Probes/*.yaml > /dev/null || exit 1; \
	done; \
	for s in Probes/*.yaml; do \
	  $(LENS) probe --spec $$s --activations $(STUDY_OUT) --out $(STUDY_OUT)/probes > /dev/null || exit 1; \
	done; \
	echo "dump and probes took $$(( $$(date +%s) - start )) s"
	@start=$$(date +%s); for e in Probes/patching/*.yaml; do \
	  $(LENS) patch --spec $$e --study $(STUDY_OUT) --exact-steps $(PATCH_EXACT) > /dev/null || exit 1; \
	done; \
	echo "patching took $$(( $$(date +%s) - start )) s (attribution at every checkpoint, exact patching at steps $(PATCH_EXACT))"
	@echo "results in $(STUDY_OUT):"
	@echo "  <run>/metrics.jsonl        evaluations at every checkpoint (lens eval, --json)"
	@echo "  <run>/checkpoints/         safetensors, TransformerLens names"
	@echo "  <run>/activations/         HDF5 per checkpoint (lens inspect FILE)"
	@echo "  probes/<probe>.md .json    probe tables and numbers"
	@echo "  probes/<probe>-steps-*.svg probe score over training, per hook and position"
	@echo "  probes/<probe>/heatmaps/   hook x position per run and checkpoint"
	@echo "  patching/<experiment>/     patching JSON, markdown, per-pair HDF5, figures (lens patch)"

# Everything make study does, with exact patching at every checkpoint.
study-full:
	$(MAKE) study PATCH_EXACT=all

bench: bench-train bench-dump
bench-train: build
	scripts/bench-train.sh $${PEER_PY:-/tmp/peers/bin/python} 3

# HDF5 write rate beside h5py, alternating; `sync` before each run so neither tool pays for the other's
# dirty pages (without it, disk results swing 3-5x with the order of the runs).
BENCH_DIR ?= /tmp
bench-dump: build
	for i in 1 2 3; do sync; $(LENS) bench dump --out $(BENCH_DIR)/lens.h5; sync; $(INTEROP_PY) ../shared/peers/h5py_write_bench.py --out $(BENCH_DIR)/peer.h5; rm -f $(BENCH_DIR)/peer.h5*; done
	for i in 1 2; do sync; $(LENS) bench dump --compress --out $(BENCH_DIR)/lens.h5; sync; $(INTEROP_PY) ../shared/peers/h5py_write_bench.py --compress --out $(BENCH_DIR)/peer.h5; rm -f $(BENCH_DIR)/peer.h5*; done

clean:
	rm -rf .build .pydeps
