"""The h5py side of the fuzz suite (Tests/FuzzTests/HDF5FuzzTests.swift), one process per run.

usage: python3 fuzz_hdf5.py mutate < [{"src", "dst", "ops": [{"op", ...}]}]   applies each file's mutations
       python3 fuzz_hdf5.py oracle HOOK < [path, ...]               what h5py reads in each file

`oracle` prints a line {path: {"readable", "error", "contract", "finite_hook", "summary"}} per file: whether h5py reads
every attribute and dataset, whether the file keeps CONTRACTS.md section 4, whether HOOK is finite where
the fuzz suite's probe reads it, and N, T and each dataset's dtype and shape. A readable file is also rewritten from what h5py read to
<dir>-oracle/<name> (contiguous datasets, a new layout), so lens's reading of the mutated file can be
compared with its reading of the same values laid out afresh.
"""
import json
import os
import shutil
import sys

import h5py
import numpy as np

STRING = h5py.string_dtype()


def replace(f, path, data, dtype=None):
    del f[path]
    f.create_dataset(path, data=data, dtype=dtype)


def mutate(job):
    shutil.copyfile(job["src"], job["dst"])
    with h5py.File(job["dst"], "r+") as f:
        for m in job["ops"]:
            apply(f, m)


def apply(f, m):
    op, p = m["op"], m.get("path")
    if op == "drop":
        del f[p]
    elif op == "rename":
        f.move(p, m["to"])
    elif op == "reshape":      # another rank: "drop" the last axis or "add" one
        v = f[p][()]
        replace(f, p, v[..., 0] if m["how"] == "drop" else v[..., None])
    elif op == "resize":       # one axis longer or shorter by m["by"]
        v = f[p][()]
        axis, by = m["axis"], m["by"]
        if by < 0:
            v = np.take(v, range(v.shape[axis] + by), axis=axis)
        else:
            pad = [(0, 0)] * v.ndim
            pad[axis] = (0, by)
            v = np.pad(v, pad)
        replace(f, p, v, f[p].dtype)
    elif op == "dtype":
        v = f[p][()]
        if m["dtype"] == "string":
            replace(f, p, np.array([str(x) for x in v.reshape(-1)], dtype=object), STRING)
        elif v.dtype == object:
            replace(f, p, np.arange(len(v), dtype=m["dtype"]))
        else:
            replace(f, p, v.astype(m["dtype"]))
    elif op == "set":          # one element, by flat index
        v = f[p][()]
        flat = v.reshape(-1)
        flat[m["index"] % flat.size] = float(m["value"]) if isinstance(m["value"], str) else m["value"]   # "nan", "inf"
        f[p][...] = flat.reshape(v.shape)
    elif op == "attr_del":
        del f.attrs[m["name"]]
    elif op == "attr_set":
        value = m["value"]
        f.attrs[m["name"]] = np.int64(value) if isinstance(value, int) else value
    elif op == "config":       # one key of the config attribute
        cfg = json.loads(f.attrs["config"])
        cfg[m["key"]] = m["value"]
        f.attrs["config"] = json.dumps(cfg)
    else:
        raise ValueError(op)


def read_all(path):
    """Every attribute and dataset as h5py reads it, or raises. Groups are walked by their member names,
    as lens walks them (H5Ovisit, h5py's visititems, can fail on a damaged index that naming never uses)."""
    attrs, data = {}, {}
    with h5py.File(path, "r") as f:
        for k in f.attrs:
            attrs[k] = f.attrs[k]

        def walk(group, prefix):
            for name in group:
                obj = group[name]
                if isinstance(obj, h5py.Group):
                    walk(obj, prefix + name + "/")
                else:
                    data[prefix + name] = (obj[()], obj.dtype)
        walk(f, "/")
    return attrs, data


def dtype_name(dt):
    return "string" if h5py.check_string_dtype(dt) is not None else str(dt)


def keeps_contract(attrs, data):
    """CONTRACTS.md section 4, as lens's validation reads it."""
    def text(k):
        v = attrs.get(k)
        return v.decode() if isinstance(v, bytes) else v
    try:
        if text("format") != "emergence-lens.activations/1":
            return False
        cfg = json.loads(text("config"))
        vocab = json.loads(text("vocab"))
        json.loads(text("tasks"))
        int(attrs["step"]), int(attrs["seed"]), str(text("run"))
    except Exception:
        return False
    if any(k not in data for k in ["/tokens", "/lengths", "/prompts", "/tasks"]):
        return False
    tokens, dt = data["/tokens"]
    if dt != np.int32 or tokens.ndim != 2:
        return False
    n, t = tokens.shape
    if vocab and (tokens.min(initial=0) < 0 or tokens.max(initial=0) >= len(vocab)):
        return False
    lengths, dt = data["/lengths"]
    if dt != np.int32 or lengths.shape != (n,) or lengths.min(initial=0) < 0 or lengths.max(initial=0) > t:
        return False
    for k in ["/prompts", "/tasks"]:
        if dtype_name(data[k][1]) != "string" or data[k][0].shape != (n,):
            return False
    groups = {g: [k for k in data if k.startswith(g + "/")] for g in ["/positions", "/labels", "/activations"]}
    for k in groups["/positions"]:
        v, dt = data[k]
        if dt != np.int32 or v.shape != (n,) or v.min(initial=0) < -1 or v.max(initial=0) >= t:
            return False
    for k in groups["/labels"]:
        v, dt = data[k]
        if dt not in (np.int32, np.float32) or v.shape != (n,) or not np.all(np.isfinite(v)):
            return False
    for k in groups["/activations"]:
        v, dt = data[k]
        name = k.split("/")[-1].split(".")
        if (dt != np.float32 or v.shape != (n, t, cfg["d_model"]) or len(name) != 3 or name[0] != "blocks"
                or name[2] != "hook_resid_post" or not name[1].isdigit() or int(name[1]) >= cfg["n_layers"]):
            return False
    return True


def finite_where_probed(data, hook):
    """Whether HOOK is finite where the fixture's probe reads it: each row at its `equals` position
    (position 0 where a row has none), the values lens's reader gathers."""
    try:
        values = data["/activations/" + hook][0]
        rows = np.arange(values.shape[0])
        return bool(np.all(np.isfinite(values[rows, np.maximum(data["/positions/equals"][0], 0)])))
    except Exception:
        return False


def oracle(path, hook):
    try:
        attrs, data = read_all(path)
    except Exception as e:
        return {"readable": False, "error": str(e).splitlines()[0][:80] if str(e) else type(e).__name__}
    tokens = data.get("/tokens", (np.zeros((0, 0)), None))[0]
    out = {"readable": True, "contract": keeps_contract(attrs, data), "finite_hook": finite_where_probed(data, hook),
           "summary": {"n": int(tokens.shape[0]) if tokens.ndim == 2 else -1,
                       "t": int(tokens.shape[1]) if tokens.ndim == 2 else -1,
                       "datasets": {k: [dtype_name(dt), list(v.shape)] for k, (v, dt) in sorted(data.items())}}}
    if out["contract"]:
        copy = os.path.dirname(path) + "-oracle/" + os.path.basename(path)
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        with h5py.File(copy, "w") as f:
            for k, v in attrs.items():
                f.attrs[k] = v
            for k, (v, dt) in data.items():
                f.create_dataset(k, data=v, dtype=STRING if dtype_name(dt) == "string" else dt)
    return out


if __name__ == "__main__":
    items = json.load(sys.stdin)
    if sys.argv[1] == "mutate":
        for m in items:
            mutate(m)
        print("{}")
    else:
        # One line per file, flushed: libhdf5 can crash on a damaged file, and the caller then knows
        # which file it was and runs the rest again.
        for p in items:
            print(json.dumps({p: oracle(p, sys.argv[2])}), flush=True)
