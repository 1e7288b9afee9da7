#!/usr/bin/env bash
# Side-by-side probe fits: `lens bench probe` vs ../shared/peers/sklearn_probe_bench.py on the same HDF5
# file, hook, position, label and train/test rows (taken from `lens probe --json`), C = 1 / (λ n_train).
# usage: scripts/bench-probe.sh SPEC.yaml ACTIVATION_FILE.h5 [PYTHON_WITH_SKLEARN] [ROUNDS]
set -eu
SPEC=$1; H5=$2; PY=${3:-/tmp/peers/bin/python}; ROUNDS=${4:-3}
LENS=${LENS:-.build/release/lens}
PEER=${PEER:-../shared/peers/sklearn_probe_bench.py}
tmp=$(mktemp -d)
$LENS probe --spec "$SPEC" --activations "$H5" --out "$tmp" --json 2>/dev/null > "$tmp/probe.json"
python3 - "$tmp" "$H5" <<'PY' > "$tmp/cells.txt"
import json, sys
tmp, h5 = sys.argv[1], sys.argv[2]
report = json.load(open(tmp + "/probe.json"))
for i, c in enumerate(c for c in report["cells"] if c["file"] == h5):
    json.dump({"train": c["trainRows"], "test": c["testRows"]}, open(f"{tmp}/split{i}.json", "w"))
    C = 1 / (c["result"]["lambda"] * len(c["trainRows"]))
    print(i, c["hook"], c["position"], report["spec"]["target"], C, c["result"]["score"])
PY
while read -r i hook pos label C score; do
  echo "cell: $hook @$pos label=$label C=$C (lens probe accuracy $score)"
  for r in $(seq "$ROUNDS"); do
    $LENS bench probe --h5 "$H5" --hook "$hook" --position "$pos" --label "$label" --split "$tmp/split$i.json" --inverse-l2 "$C"
    $PY "$PEER" --h5 "$H5" --hook "$hook" --position "$pos" --label "$label" --split "$tmp/split$i.json" --C "$C"
  done
done < "$tmp/cells.txt"
rm -rf "$tmp"
