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

.PHONY: all deps pydeps build test study bench bench-train clean

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

# The default study: sweep model sizes x seeds, dump every run's residual stream at every checkpoint,
# then print where the results are.
STUDY_OUT ?= runs/default
study: build
	$(LENS) sweep --out $(STUDY_OUT)
	@for r in $(STUDY_OUT)/*/; do \
	  [ -f $$r/run.json ] || continue; \
	  $(LENS) dump --run $$r --hooks 'blocks.*.hook_resid_post' --n 50 > /dev/null || exit 1; \
	done
	@echo "results: $(STUDY_OUT)/<run>/metrics.jsonl (evaluations), checkpoints/ (safetensors), activations/ (HDF5)"

bench: bench-train
bench-train: build
	scripts/bench-train.sh $${PEER_PY:-/tmp/peers/bin/python} 3

clean:
	rm -rf .build .pydeps
