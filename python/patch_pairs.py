#!/usr/bin/env python3
"""Minimal pairs for the `sub` task, token for token, as plain JSON (CONTRACTS section 6 fields).

Clean `a-b=` and corrupted `a-(b+10)=`: the second operand's tens digit changes, so does the answer's
tens digit, the first answer token. Tokens are the standard vocabulary's (<bos>=1, digit d = 3 + d,
'-' = 18, '=' = 16), with <bos> first, as lens encodes a prompt. The metric reads the logits at '='
(position 6), which predict the first answer token: correct = clean tens digit, wrong = corrupted.
usage: patch_pairs.py N SEED > pairs.json
"""
import json, random, sys

n, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
BOS, MINUS, EQUALS = 1, 18, 16
digit = lambda d: 3 + d
def prompt(a, b):
    return [BOS, digit(a // 10), digit(a % 10), MINUS, digit(b // 10), digit(b % 10), EQUALS]
clean, corrupted, correct, wrong = [], [], [], []
seen = set()
while len(clean) < n:
    a = rng.randint(40, 99)
    b = rng.randint(10, a - 20)
    if (a, b) in seen:
        continue
    seen.add((a, b))
    clean.append(prompt(a, b)); corrupted.append(prompt(a, b + 10))
    correct.append(digit((a - b) // 10)); wrong.append(digit((a - b - 10) // 10))
json.dump({"clean": clean, "corrupted": corrupted, "position": [6] * n, "correct": correct, "wrong": wrong,
           "dropped": 0}, sys.stdout)
