#!/usr/bin/env python3
"""Markdown tables of a finished sweep, read from its runs' metrics.jsonl (what the README quotes).

usage: python3 scripts/study-table.py [SWEEP_DIR]   (default runs/default)
Prints: final exact match per size (mean over seeds, seeds in brackets, token accuracy), the bracket
check, and the largest size's exact match over training.
"""
import glob
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "runs/default"
runs = {}
for path in sorted(glob.glob(os.path.join(root, "*", "metrics.jsonl"))):
    name = os.path.basename(os.path.dirname(path))
    size, seed = name.rsplit("-s", 1)
    runs.setdefault(size, {})[int(seed)] = [json.loads(line) for line in open(path)]
if not runs:
    sys.exit(f"{root}: no */metrics.jsonl")
spec = json.load(open(glob.glob(os.path.join(root, "*", "run.json"))[0]))
tasks = spec["evalTasks"]
sizes = [s for s in ["tiny", "small", "base"] if s in runs] + sorted(set(runs) - {"tiny", "small", "base"})

def final(size, task, key="exactMatch"):
    return [runs[size][seed][-1]["tasks"][task]["overall"][key] for seed in sorted(runs[size])]

print("| size | " + " | ".join(tasks) + " |")
print("| --- |" + " --- |" * len(tasks))
for size in sizes:
    cells = []
    for t in tasks:
        em, tok = final(size, t), final(size, t, "tokenAccuracy")
        cells.append(f"{sum(em) / len(em):.2f} ({'/'.join(f'{v:.2f}' for v in em)}), tok {sum(tok) / len(tok):.2f}")
    print(f"| {size} | " + " | ".join(cells) + " |")
n = [runs[sizes[-1]][min(runs[sizes[-1]])][-1]["tasks"][t]["overall"]["n"] for t in tasks]
print("| n (distinct items) | " + " | ".join(str(v) for v in n) + " |")

composite = "multistep_pad" if "multistep_pad" in tasks else "multistep"
subs = [t for t in ["add", "sub", "double", "order"] if t in tasks]
big, small = sizes[-1], sizes[0]
mean = lambda xs: sum(xs) / len(xs)
print()
print(f"bracket: largest ({big}) {composite} {mean(final(big, composite)):.3f} (>= 0.90: {mean(final(big, composite)) >= 0.9}); "
      f"smallest ({small}) {mean(final(small, composite)):.3f} (< 0.50: {mean(final(small, composite)) < 0.5}); "
      + ", ".join(f"{t} {mean(final(big, t)):.3f}" for t in subs)
      + f" (all >= 0.95: {all(mean(final(big, t)) >= 0.95 for t in subs)})")
print()
steps = [m["step"] for m in runs[big][min(runs[big])]]
shown = [s for s in steps if s >= 100]
print(f"| {big}, mean exact match | " + " | ".join(str(s) for s in shown) + " |")
print("| --- |" + " ---: |" * len(shown))
for t in tasks:
    row = []
    for s in shown:
        vals = [next(m for m in runs[big][seed] if m["step"] == s)["tasks"][t]["overall"]["exactMatch"] for seed in runs[big]]
        row.append(f"{mean(vals):.2f}")
    print(f"| {t} | " + " | ".join(row) + " |")
