"""Direct logit attribution and the logit lens of a `lens patch --json` record against TransformerLens 3.x.

usage: python tl_dla_check.py OUT/NAME/NAME.json      (needs torch, h5py and transformer-lens<4)

Every run, decision, layout and checkpoint of the record that has `logit_attribution` / `logit_lens`: the
same checkpoint (the record's run_dir/checkpoints/step_NNNNNN.safetensors) and the same pairs (the layout's
clean and corrupted prompts, each read at its own position, direction correct - wrong), each run (clean,
corrupted) recomputed by TransformerLens and compared per pair with the [pairs, components] arrays of the
per-pair HDF5 file the record names.

Direct logit attribution (lens: LogitAttribution.swift): TransformerLens's
`cache.get_full_resid_decomposition(layer=-1, expand_neurons=False, apply_ln=True, pos_slice=p)` (heads as
`stack_head_results` gives them, MLP outputs, embed, pos_embed) and each layer's attention b_O through
`cache.apply_ln_to_stack(..., layer=-1, pos_slice=p)` (centred, divided by the cached ln_final scale),
dotted with `model.tokens_to_residual_directions(correct) - ...(wrong)`. lens folds ln_final.w into the
direction, so the model is loaded with `fold_ln=True` (TransformerLens's default processing) but
`fold_value_biases=False`: lens keeps each head's b_V in that head's output (z includes it), where
TransformerLens's default would move it into b_O. Also checked: the components plus the folded b_U's
difference sum to the logit difference lens measured (metric logit_diff only).

Logit lens (lens: every resid_pre, then the last resid_post, through ln_final recomputed on that stream,
then the unembedding, the experiment's metric at each pair's position): TransformerLens's
`cache.accumulated_resid(layer=-1, apply_ln=True)` (3.x recomputes ln_final's statistics per stream when
the target is the unembed), then `model.unembed`, on the checkpoint as saved (no folding).

Fails (exit 1) where a difference exceeds 1e-4 of the array's scale (max(1, largest |TransformerLens value|)).
"""
import inspect
import json
import os
import sys
import warnings

import h5py
import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

TOLERANCE = 1e-4


def models(path):
    """The checkpoint as saved (logit lens), with ln folded and value biases kept in the heads (DLA), and with
    TransformerLens's default processing (value biases folded into b_O too; for reference only)."""
    with safe_open(path, "np") as f:
        c = json.loads((f.metadata() or {})["config"])
    keys = ["n_layers", "d_model", "n_heads", "d_head", "d_mlp", "n_ctx", "d_vocab", "act_fn", "eps", "normalization_type"]
    cfg = lambda: HookedTransformerConfig(**{k: c[k] for k in keys if k in c}, default_prepend_bos=False)
    sd = load_file(path)
    plain = HookedTransformer(cfg())
    plain.load_state_dict(sd, strict=False)
    folded = HookedTransformer(cfg())
    folded.load_and_process_state_dict(dict(sd), fold_ln=True, center_writing_weights=True, center_unembed=True,
                                       fold_value_biases=False)
    default = HookedTransformer(cfg())
    default.load_and_process_state_dict(dict(sd))
    return plain.eval(), folded.eval(), default.eval()


def dla(model, tokens, pos, good, bad):
    """[pairs, components] by lens's component name, on `model` (ln_final folded)."""
    L = model.cfg.n_layers
    _, cache = model.run_with_cache(tokens)
    out = {}
    direction = model.tokens_to_residual_directions(good) - model.tokens_to_residual_directions(bad)  # [pairs, d_model]
    for p in sorted(set(pos.tolist())):
        rows = (pos == p).nonzero().flatten()
        stack, labels = cache.get_full_resid_decomposition(layer=-1, expand_neurons=False, apply_ln=True, pos_slice=p,
                                                           return_labels=True)   # [components, pairs, d_model]
        names = [f"mlp{l.split('_')[0]}" if l.endswith("_mlp_out") else l for l in labels]
        biases = torch.stack([model.blocks[l].attn.b_O.expand(1, len(pos), -1)[0] for l in range(L)])
        biases = cache.apply_ln_to_stack(biases, layer=-1, pos_slice=p)
        # TransformerLens's one "bias" component is the layers' b_O together: lens gives each layer's
        bias = stack[names.index("bias")]
        if not torch.allclose(biases.sum(0), bias, atol=1e-5):
            sys.exit("TransformerLens's bias component is not the sum of the layers' b_O")
        stack = torch.cat([stack[[i for i, n in enumerate(names) if n != "bias"]], biases])
        names = [n for n in names if n != "bias"] + [f"L{l}.b_O" for l in range(L)]
        values = torch.einsum("cbd,bd->bc", stack, direction)[rows]
        for k, n in enumerate(names):
            out.setdefault(n, np.zeros(len(pos)))[rows.numpy()] = values[:, k].double().numpy()
    return out


def logit_lens(model, tokens, pos, good, bad, metric):
    """[pairs, streams] by lens's hook name, on `model` (as saved)."""
    L = model.cfg.n_layers
    _, cache = model.run_with_cache(tokens)
    if "recompute_ln" in inspect.signature(cache.apply_ln_to_stack).parameters:
        stack, labels = cache.accumulated_resid(layer=-1, apply_ln=True, return_labels=True)
    else:  # TransformerLens before recompute_ln: apply_ln would use the final stream's frozen scale
        stack, labels = cache.accumulated_resid(layer=-1, apply_ln=False, return_labels=True)
        stack = torch.stack([model.ln_final(s) for s in stack])
    names = [f"blocks.{L - 1}.hook_resid_post" if l == "final_post" else f"blocks.{l.split('_')[0]}.hook_resid_pre"
             for l in labels]
    rows = torch.arange(len(pos))
    out = {}
    for n, s in zip(names, stack):
        logits = model.unembed(s)[rows, pos]            # [pairs, vocab]
        if metric != "logit_diff":
            sys.exit(f"metric {metric}: tl_dla_check.py computes logit_diff only")
        out[n] = (logits[rows, good] - logits[rows, bad]).double().numpy()
    return out, cache, names


def compare(title, ours, names, tl):
    """Largest |lens - TransformerLens| over the array, and the share of its scale."""
    missing = [n for n in names if n not in tl] + [n for n in tl if n not in names]
    if missing:
        sys.exit(f"{title}: components not on both sides: {missing}")
    ref = np.stack([tl[n] for n in names], axis=1)
    if ours.shape != ref.shape:
        sys.exit(f"{title}: lens shape {ours.shape}, TransformerLens {ref.shape}")
    diff = np.abs(ours - ref)
    i, k = np.unravel_index(int(diff.argmax()), diff.shape)
    scale = max(1.0, float(np.abs(ref).max()))
    print(f"{title:62s} shape {list(ours.shape)!s:10s} largest difference {diff.max():.2g} at pair {i} {names[k]} "
          f"(of |values| <= {np.abs(ref).max():.3g})")
    return float(diff.max()) / scale, ref


def main():
    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)
    record_path = sys.argv[1]
    rec = json.load(open(record_path))
    here = os.path.dirname(record_path)
    metric = rec["experiment"]["metric"]
    worst = {"dla": 0.0, "lens": 0.0, "sum": 0.0}
    counts = {"dla": [0, 0, 0], "lens": [0, 0, 0]}          # arrays, pairs x runs, components
    aside = {"value biases folded": 0.0, "ln_final.w not folded": 0.0, "frozen ln_final scale": 0.0}
    loaded = {}
    with torch.no_grad():
        for run in rec["runs"]:
            for d in run["decisions"]:
                for lay in d["layouts"]:
                    pr = lay["pairs"]
                    pos, good, bad = (torch.tensor(pr[k]) for k in ("position", "correct", "wrong"))
                    for ck in lay["checkpoints"]:
                        path = os.path.join(run["run_dir"], "checkpoints", f"step_{ck['step']:06d}.safetensors")
                        if path not in loaded:
                            loaded[path] = models(path)
                        plain, folded, default = loaded[path]
                        stem = f'{run["run"]} {d["decision"]} layout{lay["layout"]} step {ck["step"]}'
                        for a in ck["logit_attribution"]:
                            tokens = torch.tensor(pr[a["run"]])
                            with h5py.File(os.path.join(here, a["per_pair"]["file"]), "r") as f:
                                ours = f[a["per_pair"]["dataset"]][()]
                                measured = f[ck["metric"]["per_pair"]["dataset"] + "/" + a["run"]][()]
                            tl = dla(folded, tokens, pos, good, bad)
                            w, _ = compare(f"logit attribution {stem} {a['run']}", ours, a["components"], tl)
                            worst["dla"] = max(worst["dla"], w)
                            c = counts["dla"]; c[0] += 1; c[1] += ours.shape[0]; c[2] = ours.shape[1]
                            if metric == "logit_diff":  # the components and the constant make the logit difference
                                b_U = folded.b_U.double().numpy()
                                total = ours.sum(1) + b_U[good.numpy()] - b_U[bad.numpy()]
                                worst["sum"] = max(worst["sum"],
                                                   float(np.abs(total - measured).max()) / max(1.0, np.abs(measured).max()))
                            # for reference: what other conventions would give (not what lens claims)
                            alt = dla(default, tokens, pos, good, bad)
                            aside["value biases folded"] = max(aside["value biases folded"], max(
                                float(np.abs(alt[n] - tl[n]).max()) for n in tl if n.startswith("L")))
                            alt = dla(plain, tokens, pos, good, bad)
                            aside["ln_final.w not folded"] = max(aside["ln_final.w not folded"], max(
                                float(np.abs(alt[n] - tl[n]).max()) for n in tl))
                        for a in ck["logit_lens"]:
                            tokens = torch.tensor(pr[a["run"]])
                            with h5py.File(os.path.join(here, a["per_pair"]["file"]), "r") as f:
                                ours = f[a["per_pair"]["dataset"]][()]
                            tl, cache, names = logit_lens(plain, tokens, pos, good, bad, metric)
                            w, _ = compare(f"logit lens {stem} {a['run']}", ours, a["components"], tl)
                            worst["lens"] = max(worst["lens"], w)
                            c = counts["lens"]; c[0] += 1; c[1] += ours.shape[0]; c[2] = ours.shape[1]
                            # for reference: the final stream's scale frozen for every stream (older apply_ln)
                            stack = cache.accumulated_resid(layer=-1, apply_ln=False)
                            frozen = cache.apply_ln_to_stack(stack, layer=-1) * plain.ln_final.w + plain.ln_final.b
                            rows = torch.arange(len(pos))
                            for s, n in zip(frozen, names):
                                l = plain.unembed(s)[rows, pos]
                                v = (l[rows, good] - l[rows, bad]).double().numpy()
                                aside["frozen ln_final scale"] = max(aside["frozen ln_final scale"],
                                                                     float(np.abs(v - tl[n]).max()))
    if not counts["dla"][0] or not counts["lens"][0]:
        sys.exit(f"{record_path}: no logit_attribution / logit_lens records (the spec needs logit_attribution: true)")
    print("for reference, TransformerLens under other conventions than lens's differs from it by up to: "
          + ", ".join(f"{k} {v:.2g}" for k, v in aside.items()))
    for key, what in (("dla", "logit attribution"), ("lens", "logit lens")):
        n, pairs, comps = counts[key]
        print(f"lens patch --json {what} vs TransformerLens: {n} arrays ({pairs} pair rows in all) x {comps} components, "
              f"largest difference {worst[key]:.2g} of the values' scale")
    if metric == "logit_diff":
        print(f"lens patch --json logit attribution + folded b_U vs lens's logit difference: "
              f"largest difference {worst['sum']:.2g} of its scale")
    if max(worst.values()) > TOLERANCE:
        sys.exit(f"difference above {TOLERANCE:g}")


if __name__ == "__main__":
    main()
