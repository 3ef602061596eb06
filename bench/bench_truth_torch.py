#!/usr/bin/env python3
"""Certified truth against what a user runs instead: PyTorch's float64 conv2d,
in-process, warm memory, medians of `reps` runs, every ratio from the same run.

Per layer: certconv.truth(x, w, threads=1) with every field and with
fields="y" (no absdot pass) over torch.nn.functional.conv2d in float64 on one
thread; the fraction of the method's limit reached (the kernel spends 8 float64
operations per term for every field, 4 for fields="y", where the float64 GEMM
spends one FMA: limit = 8 (or 4) × torch's time, fraction = limit / ours); and
the speed-up of certconv.truth from 1 to 2 threads.

Usage: PYTHONPATH=build/lib/python python3 bench/bench_truth_torch.py [reps=5] > truth_torch.json
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

import certconv

LAYERS = [  # (name, mb, ic, oc, hw, k, stride, pad): ResNet-50 (data/shapes/resnet_50) and a 1×1
    ("conv1", 1, 3, 64, 224, 7, 2, 3),
    ("res2a_branch2b", 1, 64, 64, 56, 3, 1, 1),
    ("res4a_branch2b", 1, 256, 256, 14, 3, 1, 1),
    ("1x1_512to128", 1, 512, 128, 28, 1, 1, 0),
    ("res2a_branch2b", 8, 64, 64, 56, 3, 1, 1),
]


def median(reps, fn):
    fn()  # warm-up: pages, caches, oneDNN's primitive cache
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    # Idle BLAS/OpenMP workers of one library must not spin on the core the next
    # method runs on (torch's float64 conv runs through a BLAS).
    quiet = {"OMP_WAIT_POLICY": "passive", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    if any(os.environ.get(k) != v for k, v in quiet.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **quiet})
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    rows = []
    for name, mb, ic, oc, hw, k, s, p in LAYERS:
        x = rng.standard_normal((mb, ic, hw, hw)).astype(np.float32)
        w = (rng.standard_normal((oc, ic, k, k)) * (2.0 / (ic * k * k)) ** 0.5).astype(np.float32)
        xt, wt = torch.from_numpy(x).double(), torch.from_numpy(w).double()
        t_torch = median(reps, lambda: torch.nn.functional.conv2d(xt, wt, stride=s, padding=p))
        t_all = median(reps, lambda: certconv.truth(x, w, stride=s, padding=p, threads=1))
        t_y = median(reps, lambda: certconv.truth(x, w, stride=s, padding=p, threads=1, fields="y"))
        t_all2 = median(reps, lambda: certconv.truth(x, w, stride=s, padding=p, threads=2))
        rows.append({
            "layer": name, "mb": mb, "ic": ic, "oc": oc, "hw": hw, "k": k, "stride": s, "pad": p,
            "terms_per_output": ic * k * k,
            "torch_f64_s": t_torch, "truth_s": t_all, "truth_y_s": t_y, "truth_2threads_s": t_all2,
            "truth_over_torch": t_all / t_torch, "truth_y_over_torch": t_y / t_torch,
            "fraction_of_limit": 8 * t_torch / t_all, "fraction_of_limit_y": 4 * t_torch / t_y,
            "speedup_2_threads": t_all / t_all2,
        })
        print(f"{name} mb{mb}: truth/torch {t_all / t_torch:.2f}, y only {t_y / t_torch:.2f}, "
              f"2-thread speed-up {t_all / t_all2:.2f}", file=sys.stderr)
    # The build's metadata, as every certconv document carries it.
    meta = certconv.analyze(np.ones((1, 1, 3, 3), np.float32), np.ones((1, 1, 1, 1), np.float32), orders="direct")
    doc = {"schema": "certconv.bench_truth_torch/1", "reps": reps, "statistic": "median wall seconds",
           "tool": meta["tool"], "libraries": meta["libraries"], "machine": meta["machine"],
           "torch": torch.__version__, "torch_threads": 1, "seed": 1, "results": rows}
    json.dump(doc, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
