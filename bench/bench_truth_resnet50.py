#!/usr/bin/env python3
"""Every ResNet-50 layer (data/shapes/resnet_50) at mb1: certconv.truth with method
auto (the integer method where it applies) against method binary64 (the binary64
kernel alone), alternating, medians of 5, one thread, every field: where auto's
choice of method gains or loses.

Usage: OMP_WAIT_POLICY=passive OPENBLAS_NUM_THREADS=1 PYTHONPATH=build/lib/python \
       python3 bench/bench_truth_resnet50.py > truth_resnet50.json
"""
import json
import re
import statistics
import sys
import time

import numpy as np

import certconv

rows = []
for line in open("data/shapes/resnet_50"):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    f = dict((k, int(v)) for k, v in re.findall(r"([a-z]+)(\d+)", line.split('n"')[0]))
    name = line.split('n"')[1].rstrip('"')
    ic, oc, ih, kh = f["ic"], f["oc"], f["ih"], f["kh"]
    s, p = f.get("sh", 1), f.get("ph", 0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, ic, ih, ih)).astype(np.float32)
    w = (rng.standard_normal((oc, ic, kh, kh)) * (2.0 / (ic * kh * kh)) ** 0.5).astype(np.float32)
    fn = {m: (lambda m=m: certconv.truth(x, w, stride=s, padding=p, method=m)) for m in ("auto", "binary64")}
    for g in fn.values():
        g()
    t = {m: [] for m in fn}
    for _ in range(5):
        for m, g in fn.items():
            t0 = time.perf_counter(); g(); t[m].append(time.perf_counter() - t0)
    med = {m: statistics.median(v) for m, v in t.items()}
    rows.append({"layer": name, "terms": ic * kh * kh, "auto_s": med["auto"], "binary64_s": med["binary64"],
                 "auto_over_binary64": med["auto"] / med["binary64"]})
    print(f"{name:32s} K={ic*kh*kh:5d} auto/binary64 {med['auto']/med['binary64']:.2f}", file=sys.stderr)
r = [x["auto_over_binary64"] for x in rows]
print(f"layers {len(rows)}: median auto/binary64 {statistics.median(r):.2f}, max {max(r):.2f}, "
      f"sum auto {sum(x['auto_s'] for x in rows):.3f} s / binary64 {sum(x['binary64_s'] for x in rows):.3f} s", file=sys.stderr)
meta = certconv.analyze(np.ones((1, 1, 3, 3), np.float32), np.ones((1, 1, 1, 1), np.float32), orders="direct")
json.dump({"schema": "certconv.bench_truth_resnet50/1", "reps": 5, "statistic": "median wall seconds",
           "tool": meta["tool"], "libraries": meta["libraries"], "machine": meta["machine"], "seed": 1,
           "results": rows}, sys.stdout, indent=1)
print()
