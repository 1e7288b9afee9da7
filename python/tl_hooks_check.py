"""Compare every hook of a `lens dump` file with TransformerLens's run_with_cache on the same tokens.

usage: python tl_hooks_check.py CHECKPOINT.safetensors ACTIVATIONS.h5   (needs torch, transformer-lens<4, h5py)
Prints the largest absolute difference per hook as JSON, and exits 1 when a hook of TransformerLens is
missing from the file (or the file has one TransformerLens lacks), a -inf mask differs, or a difference
exceeds 1e-4 x (1 + the largest |value| of that hook).
"""
import json
import sys

import h5py
import numpy as np
import torch
from safetensors.torch import load_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

import lens_numpy

ckpt, h5 = sys.argv[1], sys.argv[2]
_, cfg, _ = lens_numpy.load(ckpt)
keys = ["n_layers", "d_model", "n_heads", "d_head", "d_mlp", "n_ctx", "d_vocab", "act_fn", "eps", "normalization_type", "seed"]
model = HookedTransformer(HookedTransformerConfig(**{k: cfg[k] for k in keys}, use_attn_result=True))
model.load_state_dict(load_file(ckpt), strict=False)
problems = []
with h5py.File(h5, "r") as f:
    tokens = torch.tensor(f["tokens"][:16].astype(np.int64))
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens)
    ours_names, theirs_names = set(f["activations"]), set(cache.keys())
    if ours_names != theirs_names:
        problems.append(f"hook sets differ: only lens {sorted(ours_names - theirs_names)}, only TransformerLens {sorted(theirs_names - ours_names)}")
    worst = {}
    for name in sorted(ours_names & theirs_names):
        ours = f["activations"][name][:16]
        theirs = cache[name].numpy()
        finite = np.isfinite(theirs)
        same_masks = bool((np.isfinite(ours) == finite).all())
        diff = float(np.abs(ours[finite] - theirs[finite]).max())
        worst[name] = (diff, same_masks)
        if not same_masks:
            problems.append(f"{name}: -inf masks differ")
        if diff > 1e-4 * (1 + float(np.abs(theirs[finite]).max())):
            problems.append(f"{name}: largest difference {diff}")
print(json.dumps(worst, indent=1))
for p in problems:
    print("tl_hooks_check:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
