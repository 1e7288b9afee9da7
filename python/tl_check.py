"""Load an EmergenceLens checkpoint into TransformerLens 3.x and compare logits with lens_numpy.

usage: python tl_check.py CHECKPOINT.safetensors     (needs torch and transformer-lens<4)
"""
import json
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

import lens_numpy

path = sys.argv[1]
sd_np, cfg, meta = lens_numpy.load(path)
tl_cfg = HookedTransformerConfig(**{k: cfg[k] for k in ["n_layers", "d_model", "n_heads", "d_head", "d_mlp", "n_ctx",
                                                           "d_vocab", "act_fn", "eps", "normalization_type", "seed"]})
model = HookedTransformer(tl_cfg)
missing, unexpected = model.load_state_dict(load_file(path), strict=False)
tokens = np.random.default_rng(0).integers(0, cfg["d_vocab"], size=(3, cfg["n_ctx"]))
with torch.no_grad():
    logits, cache = model.run_with_cache(torch.tensor(tokens))
ours = lens_numpy.forward(sd_np, cfg, tokens)
print(json.dumps({
    "missing_keys_not_in_checkpoint": sorted(missing)[:6], "unexpected_keys": sorted(unexpected),
    "max_abs_logit_diff_vs_numpy": float(np.abs(logits.double().numpy() - ours).max()),
    "hook_pattern_shape": list(cache["blocks.0.attn.hook_pattern"].shape),
}, indent=1))
