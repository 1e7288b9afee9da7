# EmergenceLens. A fresh machine needs only: make study (the main job) and make test (all tests).
#
# Python for the interop tests: Debian's /usr/bin/python3 (NOT pyenv's python3 on PATH), because
# Debian's python3-h5py and python3-numpy install for it; safetensors is PyPI-only and is installed
# with pip into .pydeps/ for that same interpreter.
INTEROP_PY ?= /usr/bin/python3
APT_PKGS := libopenblas-dev libhdf5-dev pkg-config python3-h5py python3-numpy python3-pip
# Only for make test-slurm: Slurm itself (slurmctld, slurmd, sbatch, ...) and its authentication daemon.
SLURM_PKGS := slurm-wlm munge
SWIFT ?= swift
LENS := .build/release/lens
export INTEROP_PY

.PHONY: all deps slurm-deps test-slurm pydeps build test test-tl test-tl-patch fuzz study study-full specs bench bench-train bench-dump clean

all: build

# Installs the Debian packages that are missing (as root), or prints the exact command to run.
deps slurm-deps:
	@missing=""; for p in $(if $(filter slurm-deps,$@),$(SLURM_PKGS),$(APT_PKGS)); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
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

# lens study / sweep --slurm against a real single-node Slurm started here (munged, slurmctld, slurmd as
# root; scripts/slurm-test.sh): the results the same bytes as a local run's, also after an array task is
# cancelled and the study submitted again. Not root: it says it skipped and fails (exit 77), never passes.
test-slurm: build slurm-deps
	scripts/slurm-test.sh

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

# The default study, from the binary alone: `lens study` trains the sweep, dumps every run's residual
# stream, fits every shipped probe and runs every shipped patching experiment (attribution at every
# checkpoint, exact patching at step 1000 and the last; STUDY_FLAGS=--full for every checkpoint),
# resuming each stage where it stopped. Then the per-size table of final exact match.
STUDY_OUT ?= runs/default
STUDY_FLAGS ?=
study: build
	@start=$$(date +%s); $(LENS) study --out $(STUDY_OUT) $(STUDY_FLAGS) || exit 1; \
	  echo "lens study took $$(( $$(date +%s) - start )) s"
	@$(INTEROP_PY) scripts/study-table.py $(STUDY_OUT)

# Everything make study does, with exact patching at every checkpoint.
study-full:
	$(MAKE) study STUDY_FLAGS=--full

# The shipped specs embedded in the binary, regenerated from Probes/ (a test fails when they differ).
specs:
	$(INTEROP_PY) scripts/embed-specs.py

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
