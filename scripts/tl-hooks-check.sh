#!/usr/bin/env bash
# Every hook of a `lens dump` against TransformerLens 3.9's run_with_cache, on the committed trained
# checkpoint (default-study base, step 4000). torch is too large for `make test`: this is `make test-tl`.
# usage: scripts/tl-hooks-check.sh PEER_PYTHON   (a venv with torch, h5py, safetensors, transformer-lens<4)
set -euo pipefail
PY=${1:?usage: scripts/tl-hooks-check.sh PEER_PYTHON}
cd "$(dirname "$0")/.."
if ! "$PY" -c 'import torch, transformer_lens, h5py, safetensors' 2>/dev/null; then
  echo "$PY lacks torch / transformer-lens<4 / h5py / safetensors; set up ../shared/peers/README.md's venv:" >&2
  echo "  python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch h5py numpy safetensors 'transformer-lens<4'" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/run/checkpoints"
cp Tests/ProbingTests/Fixtures/base-s1-run.json "$work/run/run.json"
cp Tests/ProbingTests/Fixtures/base-s1-step4000.safetensors "$work/run/checkpoints/step_004000.safetensors"
.build/release/lens dump --run "$work/run" --hooks '*' --n 16 --out "$work/acts" --threads 1 > /dev/null
(cd python && "$PY" tl_hooks_check.py "$work/run/checkpoints/step_004000.safetensors" "$work/acts/step_004000.h5") > "$work/diffs.json"
"$PY" - "$work/diffs.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"lens vs TransformerLens: {len(d)} hooks, largest difference {max(v[0] for v in d.values()):.2g}, -inf masks identical")
PYEOF
