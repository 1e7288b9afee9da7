"""Compare every hook of a `lens dump` file with TransformerLens's run_with_cache on the same tokens.

usage: python tl_hooks_check.py CHECKPOINT.safetensors ACTIVATIONS.h5   (needs torch, transformer-lens<4, h5py)
Prints the largest absolute difference per hook.
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
with h5py.File(h5, "r") as f:
    tokens = torch.tensor(f["tokens"][:16].astype(np.int64))
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens)
    worst = {}
    for name in f["activations"]:
        ours = f["activations"][name][:16]
        theirs = cache[name].numpy()
        finite = np.isfinite(theirs)
        same_masks = bool((np.isfinite(ours) == finite).all())
        worst[name] = (float(np.abs(ours[finite] - theirs[finite]).max()), same_masks)
print(json.dumps(worst, indent=1))
