#!/usr/bin/env bash
# Activation patching against TransformerLens 3.x (`transformer_lens.patching.get_act_patch_<kind>`) on
# the committed trained checkpoint (default-study base, step 4000) and the same minimal pairs of the
# `sub` task, for every kind the peer has: `lens bench patch --checkpoint --pairs` beside
# ../shared/peers/tl_patch_bench.py, denoising, raw logit difference. torch is too large for
# `make test`: this is `make test-tl-patch`. Fails on any difference above 1e-4 of the result's scale.
# Then the same through `lens patch --json` (below): its own pairs and results against TransformerLens,
# and its direct logit attribution and logit lens against TransformerLens's cache (python/tl_dla_check.py).
# usage: scripts/tl-patch-check.sh PEER_PYTHON [PAIRS] [SEED]
set -euo pipefail
PY=${1:?usage: scripts/tl-patch-check.sh PEER_PYTHON [PAIRS] [SEED]}
N=${2:-32}; SEED=${3:-0}
cd "$(dirname "$0")/.."
if ! "$PY" -c 'import torch, transformer_lens, safetensors, h5py' 2>/dev/null; then
  echo "$PY lacks torch / transformer-lens<4 / safetensors / h5py; set up ../shared/peers/README.md's venv:" >&2
  echo "  python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch h5py numpy safetensors 'transformer-lens<4'" >&2
  exit 1
fi
PEER=${PEER_SCRIPT:-../shared/peers/tl_patch_bench.py}
[ -f "$PEER" ] || { echo "$PEER: no such file (set PEER_SCRIPT to tl_patch_bench.py)" >&2; exit 1; }
CKPT=Tests/ProbingTests/Fixtures/base-s1-step4000.safetensors
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" python/patch_pairs.py "$N" "$SEED" > "$work/pairs.json"
kinds=$("$PY" - <<'PYEOF'
# the peer's kinds: every get_act_patch_* of transformer_lens.patching, named as the peer names them
from transformer_lens import patching
print(" ".join(sorted(n[len("get_act_patch_"):].replace("attn_head_", "head_") for n in dir(patching) if n.startswith("get_act_patch_"))))
PYEOF
)
for k in $kinds; do
  .build/release/lens bench patch --kind "$k" --checkpoint "$CKPT" --pairs "$work/pairs.json" --threads 2 > "$work/lens-$k.txt"
  # (TransformerLens's progress bars and deprecation warnings go to a log, shown if the peer fails)
  "$PY" "$PEER" --kind "$k" --checkpoint "$CKPT" --pairs "$work/pairs.json" --threads 2 2> "$work/tl-$k.log" > "$work/tl-$k.txt" \
    || { tail -5 "$work/tl-$k.log" >&2; exit 1; }
done
"$PY" - "$work" $kinds <<'PYEOF'
import json, sys
import numpy as np
work, kinds, worst = sys.argv[1], sys.argv[2:], 0.0
for k in kinds:
    lens_line, lens_json = open(f"{work}/lens-{k}.txt").read().splitlines()[:2]
    tl_line, tl_json = open(f"{work}/tl-{k}.txt").read().splitlines()[:2]
    a, b = np.array(json.loads(lens_json)), np.array(json.loads(tl_json))
    if a.shape != b.shape:
        sys.exit(f"{k}: lens shape {a.shape}, TransformerLens {b.shape}")
    scale = max(1.0, np.abs(b).max())
    d = float(np.abs(a - b).max())
    worst = max(worst, d / scale)
    field = lambda line, key: float(line.split(f"{key}=")[1].split()[0])
    print(f"{k:28s} shape {list(a.shape)!s:18s} largest difference {d:.2g} (of |values| <= {np.abs(b).max():.3g}); "
          f"seconds lens {field(lens_line, 'seconds'):.3f} TransformerLens {field(tl_line, 'seconds'):.3f}")
print(f"lens vs TransformerLens patching: {len(kinds)} kinds, largest difference {worst:.2g} of the result's scale")
if worst > 1e-4:
    sys.exit("difference above 1e-4")
PYEOF

# lens patch --json: the experiment's own pairs and numbers against TransformerLens, on a run directory
# around the same checkpoint, every kind, the pairs lens patch built from the run's held-out `sub` items;
# with logit_attribution, so the same run also gives DLA and the logit lens of both runs to check.
mkdir -p "$work/run/checkpoints"
cp Tests/ProbingTests/Fixtures/base-s1-run.json "$work/run/run.json"
cp "$CKPT" "$work/run/checkpoints/step_004000.safetensors"
cat > "$work/tl.yaml" <<'YAML'
name: tl
question: Does lens patch give TransformerLens's numbers on its own pairs?
task: sub
corruption: operand
pairs: 200
min_pairs: 20
kinds: all
directions: [denoising]
attribution: false
logit_attribution: true
YAML
.build/release/lens patch --spec "$work/tl.yaml" --run "$work/run" --out "$work/out" --threads 2 --resamples 100 > /dev/null
for f in "$work"/out/tl/pairs/*.json; do
  for k in $kinds; do
    "$PY" "$PEER" --kind "$k" --checkpoint "$CKPT" --pairs "$f" --threads 2 2> "$work/tl.log" > "$work/tl-$(basename "$f" .json)-$k.txt" \
      || { tail -5 "$work/tl.log" >&2; exit 1; }
  done
done
"$PY" - "$work" $kinds <<'PYEOF'
import json, sys
import numpy as np
work, kinds, worst, n = sys.argv[1], sys.argv[2:], 0.0, 0
rec = json.load(open(f"{work}/out/tl/tl.json"))
for run in rec["runs"]:
    for d in run["decisions"]:
        for lay in d["layouts"]:
            stem = f'{run["run"]}-{d["decision"]}-layout{lay["layout"]}'
            results = {r["kind"]: r for r in lay["checkpoints"][0]["results"] if r["method"] == "exact"}
            for k in kinds:
                tl = np.array(json.loads(open(f"{work}/tl-{stem}-{k}.txt").read().splitlines()[1]))
                ours = np.array(results[k]["raw"], dtype=float)
                if ours.shape != tl.shape:
                    sys.exit(f"lens patch {stem} {k}: shape {ours.shape}, TransformerLens {tl.shape}")
                worst = max(worst, float(np.abs(ours - tl).max()) / max(1.0, np.abs(tl).max())); n += 1
print(f"lens patch --json vs TransformerLens on its own pairs: {n} results, largest difference {worst:.2g} of the result's scale")
if worst > 1e-4:
    sys.exit("difference above 1e-4")
PYEOF

# DLA (every head, b_O, MLP, the embeddings) and the logit lens of lens patch's clean and corrupted runs,
# per pair, against TransformerLens's get_full_resid_decomposition / apply_ln_to_stack and accumulated_resid.
"$PY" python/tl_dla_check.py "$work/out/tl/tl.json"
