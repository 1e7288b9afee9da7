"""Load an EmergenceLens checkpoint in Python and run it with numpy alone.

The forward pass follows TransformerLens's HookedTransformer (pre-LN GPT-2, learned positions,
hook semantics of CONTRACTS.md section 3), so its logits must equal both `lens`'s and
`HookedTransformer(cfg).load_state_dict(sd, strict=False)`'s.

usage: python3 lens_numpy.py CHECKPOINT.safetensors TOKENS_JSON   (prints logits as JSON)
"""
import json
import math
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def load(path):
    """Returns (state_dict of numpy arrays, config dict, metadata dict)."""
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    return load_file(path), json.loads(meta["config"]), meta


def layer_norm(x, w, b, eps):
    x = x - x.mean(-1, keepdims=True)
    scale = np.sqrt((x ** 2).mean(-1, keepdims=True) + eps)
    return x / scale * w + b


def act(x, name):
    if name == "relu":
        return np.maximum(x, 0)
    if name == "gelu":
        erf = np.vectorize(math.erf)
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(sd, cfg, tokens):
    """tokens int [batch, pos] -> logits float64 [batch, pos, d_vocab]."""
    sd = {k: v.astype(np.float64) for k, v in sd.items()}
    tokens = np.asarray(tokens)
    B, T = tokens.shape
    resid = sd["embed.W_E"][tokens] + sd["pos_embed.W_pos"][:T][None]
    mask = np.tril(np.ones((T, T), dtype=bool))
    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}."
        x = layer_norm(resid, sd[p + "ln1.w"], sd[p + "ln1.b"], cfg["eps"])
        q = np.einsum("btd,hde->bthe", x, sd[p + "attn.W_Q"]) + sd[p + "attn.b_Q"]
        k = np.einsum("btd,hde->bthe", x, sd[p + "attn.W_K"]) + sd[p + "attn.b_K"]
        v = np.einsum("btd,hde->bthe", x, sd[p + "attn.W_V"]) + sd[p + "attn.b_V"]
        scores = np.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(cfg["d_head"])
        scores = np.where(mask, scores, -np.inf)
        pattern = np.exp(scores - scores.max(-1, keepdims=True))
        pattern /= pattern.sum(-1, keepdims=True)
        z = np.einsum("bhqk,bkhe->bqhe", pattern, v)
        resid = resid + np.einsum("bqhe,hed->bqd", z, sd[p + "attn.W_O"]) + sd[p + "attn.b_O"]
        x = layer_norm(resid, sd[p + "ln2.w"], sd[p + "ln2.b"], cfg["eps"])
        h = act(x @ sd[p + "mlp.W_in"] + sd[p + "mlp.b_in"], cfg["act_fn"])
        resid = resid + h @ sd[p + "mlp.W_out"] + sd[p + "mlp.b_out"]
    x = layer_norm(resid, sd["ln_final.w"], sd["ln_final.b"], cfg["eps"])
    return x @ sd["unembed.W_U"] + sd["unembed.b_U"]


if __name__ == "__main__":
    sd, cfg, meta = load(sys.argv[1])
    tokens = json.load(open(sys.argv[2]))
    logits = forward(sd, cfg, tokens)
    print(json.dumps({
        "format": meta.get("format"), "step": meta.get("step"), "run": meta.get("run"), "config": cfg,
        "names": sorted(sd), "shapes": {k: list(v.shape) for k, v in sd.items()},
        "dtypes": sorted({str(v.dtype) for v in sd.values()}),
        "first_values": {k: float(v.reshape(-1)[0]) for k, v in sd.items()},
        "logits": logits.reshape(-1).tolist(),
    }))
