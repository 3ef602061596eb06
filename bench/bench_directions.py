#!/usr/bin/env python3
"""Certified truth of the backward directions against what a user runs instead:
PyTorch's float64 torch.nn.grad.conv2d_weight / conv2d_input, in-process, one
thread each, warm memory, medians of `reps` runs, ratios from the same run.
Also the peak memory growth of one truth call, against the sizes of its operands
and result (the method stores no per-term data).

Usage: PYTHONPATH=build/lib/python python3 bench/bench_directions.py [reps=5] > directions.json
"""
import json
import resource
import statistics
import sys
import time

import numpy as np
import torch

import certconv

LAYERS = [  # (name, mb, ic, oc, hw, k, stride, pad): ResNet-50 (data/shapes/resnet_50)
    ("res2a_branch2b", 8, 64, 64, 56, 3, 1, 1),
    ("res2a_branch2b", 1, 64, 64, 56, 3, 1, 1),
    ("conv1", 1, 3, 64, 224, 7, 2, 3),
    ("res4a_branch2b", 8, 256, 256, 14, 3, 1, 1),
]


def median(reps, fn):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    rows = []
    for name, mb, ic, oc, hw, k, s, p in LAYERS:
        x = rng.standard_normal((mb, ic, hw, hw)).astype(np.float32)
        w = (rng.standard_normal((oc, ic, k, k)) * 0.05).astype(np.float32)
        xt, wt = torch.from_numpy(x).double(), torch.from_numpy(w).double()
        dy = rng.standard_normal(tuple(torch.nn.functional.conv2d(xt, wt, stride=s, padding=p).shape)).astype(np.float32)
        dyt = torch.from_numpy(dy).double()
        for direction in ("bwd_w", "bwd_d"):
            if direction == "bwd_w":
                ours = lambda: certconv.truth(x, w.shape, stride=s, padding=p, direction="bwd_w", dy=dy, threads=1)
                theirs = lambda: torch.nn.grad.conv2d_weight(xt, wt.shape, dyt, stride=s, padding=p)
                operands = x.size + dy.size
                result = w.size
            else:
                ours = lambda: certconv.truth(x.shape, w, stride=s, padding=p, direction="bwd_d", dy=dy, threads=1)
                theirs = lambda: torch.nn.grad.conv2d_input(xt.shape, wt, dyt, stride=s, padding=p)
                operands = w.size + dy.size
                result = x.size
            before = peak_mib()
            t = ours()  # warm-up, and the memory peak of one call
            grown = peak_mib() - before
            ref = theirs()
            err = float(np.abs(t["y"] - ref.numpy()).max())
            t_ours, t_torch = median(reps, ours), median(reps, theirs)
            rows.append({
                "layer": name, "mb": mb, "direction": t["direction"], "spec": t["spec"],
                "n_terms": t["n_terms"], "outputs": int(t["y"].size),
                "truth_s": t_ours, "torch_f64_s": t_torch, "ratio": t_ours / t_torch,
                "max_abs_diff_torch_f64": err,
                "peak_rss_growth_mib": grown,
                "operands_and_result_mib": (operands + result) * 8 / 2**20,
            })
            print(f"{name} mb{mb} {t['direction']}: truth {t_ours:.3f} s, torch f64 {t_torch:.3f} s, "
                  f"ratio {t_ours / t_torch:.2f}", file=sys.stderr)
    # The build's metadata, as every certconv document carries it.
    meta = certconv.analyze(np.ones((1, 1, 3, 3), np.float32), np.ones((1, 1, 1, 1), np.float32), orders="direct")
    doc = {"schema": "certconv.bench_directions/1", "reps": reps, "statistic": "median",
           "tool": meta["tool"], "libraries": meta["libraries"], "machine": meta["machine"],
           "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "certconv_threads": 1,
           "seed": 1, "results": rows}
    json.dump(doc, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
