#!/usr/bin/env bash
# Activation patching speed: `lens bench patch` beside ../shared/peers/tl_patch_bench.py (TransformerLens
# 3.x), same flags and workload (random 2-layer d_model 64 model, 64 rows of 32 tokens, one token
# corrupted), alternating, ROUNDS rounds per kind; prints every line, then per kind the median seconds
# of each and their ratio, and the load average before and after (the machine is shared: a loaded
# machine slows TransformerLens's threads far more than lens's).
# usage: scripts/bench-patch.sh [PYTHON_WITH_TORCH] [ROUNDS] [KIND...]   (default: every kind the peer has)
set -eu
PY=${1:-/tmp/peers/bin/python}
ROUNDS=${2:-3}
shift $(( $# > 2 ? 2 : $# ))
LENS=${LENS:-.build/release/lens}
PEER=${PEER:-../shared/peers/tl_patch_bench.py}
FLAGS="--d-model 64 --layers 2 --heads 4 --d-mlp 256 --ctx 32 --vocab 39 --batch 64 --threads 2"
kinds=("$@")
if [ ${#kinds[@]} -eq 0 ]; then
  kinds=($("$PY" -c 'from transformer_lens import patching; print(" ".join(sorted(n[14:].replace("attn_head_", "head_") for n in dir(patching) if n.startswith("get_act_patch_"))))'))
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
summary=()
for k in "${kinds[@]}"; do
  lens=(); tl=()
  for r in $(seq "$ROUNDS"); do
    l=$($LENS bench patch --kind "$k" $FLAGS); echo "$l"; lens+=($(echo "$l" | sed 's/.* seconds=\([0-9.]*\).*/\1/'))
    t=$($PY "$PEER" --kind "$k" $FLAGS 2>/dev/null); echo "$t"; tl+=($(echo "$t" | sed 's/.* seconds=\([0-9.]*\).*/\1/'))
  done
  ml=$(printf '%s\n' "${lens[@]}" | sort -g | sed -n "$(( (ROUNDS + 1) / 2 ))p")
  mt=$(printf '%s\n' "${tl[@]}" | sort -g | sed -n "$(( (ROUNDS + 1) / 2 ))p")
  summary+=("$(printf '%-28s lens %8.3f s  TransformerLens %8.3f s  ratio %6.1fx  (lens %s; TL %s)' "$k" "$ml" "$mt" \
    "$(awk "BEGIN{print $mt/$ml}")" "${lens[*]}" "${tl[*]}")")
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${summary[@]}"
