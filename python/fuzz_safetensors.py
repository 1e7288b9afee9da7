"""The safetensors side of the fuzz suite (Tests/FuzzTests/SafetensorsFuzzTests.swift), one process per run.

usage: python3 fuzz_safetensors.py < [path, ...]

Prints {path: verdict}: "unreadable: ..." when Python's safetensors cannot load the file, "non-finite
TENSOR" when a tensor holds NaN or infinity, else "finite", and then the tensors it read are written
with the same metadata to PATH.oracle.safetensors (safetensors' own tensor order, so other offsets than
lens's), for the suite to compare lens's reading of both.
"""
import json
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

out = {}
for path in json.load(sys.stdin):
    try:
        with safe_open(path, framework="numpy") as f:
            meta = f.metadata()
        tensors = load_file(path)
    except Exception as e:
        out[path] = "unreadable: " + (str(e).splitlines() or [type(e).__name__])[0][:80]
        continue
    bad = [k for k, v in sorted(tensors.items()) if not np.all(np.isfinite(v))]
    if bad:
        out[path] = "non-finite " + bad[0]
    else:
        save_file(tensors, path + ".oracle.safetensors", metadata=meta)
        out[path] = "finite"
print(json.dumps(out))
