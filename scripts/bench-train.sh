#!/usr/bin/env bash
# Side-by-side training throughput: lens vs PyTorch (../shared/peers/torch_gpt_bench.py), alternating,
# ROUNDS rounds per case; prints every line and the median ratio per case.
# usage: scripts/bench-train.sh [PYTHON_WITH_TORCH] [ROUNDS]
set -eu
PY=${1:-/tmp/peers/bin/python}
ROUNDS=${2:-3}
LENS=${LENS:-.build/release/lens}
PEER=${PEER:-../shared/peers/torch_gpt_bench.py}
cases=(
  "--d-model 64 --layers 2 --heads 4 --d-mlp 256 --batch 64 --ctx 32 --threads 2"
  "--d-model 128 --layers 2 --heads 4 --d-mlp 512 --batch 64 --ctx 32 --threads 2"
  "--d-model 256 --layers 4 --heads 8 --d-mlp 1024 --batch 64 --ctx 32 --threads 2 --steps 20"
)
for c in "${cases[@]}"; do
  lens=(); torch=()
  for r in $(seq "$ROUNDS"); do
    l=$($LENS bench train $c); echo "$l"; lens+=($(echo "$l" | sed 's/.*tokens_per_s=\([0-9]*\).*/\1/'))
    t=$($PY "$PEER" $c); echo "$t"; torch+=($(echo "$t" | sed 's/.*tokens_per_s=\([0-9]*\).*/\1/'))
  done
  ml=$(printf '%s\n' "${lens[@]}" | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p")
  mt=$(printf '%s\n' "${torch[@]}" | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p")
  echo "case: $c"
  echo "median lens tokens_per_s=$ml torch tokens_per_s=$mt ratio=$(awk "BEGIN{printf \"%.2f\", $ml/$mt}")"
done
