#!/usr/bin/env python3
"""Certified truth against what a user runs instead: PyTorch's float64 conv2d,
in-process, warm memory, medians of `reps` runs, every ratio from the same run.

Per layer: certconv.truth(x, w, threads=1) with every field and with
fields="y" (no absdot pass) over torch.nn.functional.conv2d in float64 on one
thread, for method auto (what users get) and each of the two fast methods it
chooses between: binary64 (the kernel spends 8 float64 operations per term for
every field, 4 for fields="y", where the float64 GEMM spends one FMA: limit = 8
(or 4) × torch's time, fraction = limit / ours) and integer (int8 residue GEMMs,
where the CPU has AVX-512 VNNI; null elsewhere); and the speed-up of method auto
from 1 to 2 threads. Methods alternate within each repetition, so every ratio
compares runs taken under the same load.

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


def medians(reps, fns):
    """Median seconds of each of fns, run in turn reps times after one warm-up
    round (pages, caches, oneDNN's primitive cache)."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


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
        def truth(method="auto", threads=1, fields="all"):
            return lambda: certconv.truth(x, w, stride=s, padding=p, threads=threads, fields=fields, method=method)
        fns = {"torch": lambda: torch.nn.functional.conv2d(xt, wt, stride=s, padding=p),
               "auto": truth(), "auto_y": truth(fields="y"), "auto_2": truth(threads=2),
               "binary64": truth("binary64"), "binary64_y": truth("binary64", fields="y")}
        kernels = {"auto": truth()()["kernel"]}
        try:
            kernels["integer"] = truth("integer", fields="y")()["kernel"]
            fns.update({"integer": truth("integer"), "integer_y": truth("integer", fields="y")})
        except ValueError as e:
            print(f"{name}: no integer method: {e}", file=sys.stderr)
        t = medians(reps, fns)
        tt = t["torch"]
        ratio = {k: (t[k] / tt if k in t else None) for k in ("auto", "auto_y", "binary64", "binary64_y",
                                                              "integer", "integer_y")}
        rows.append({
            "layer": name, "mb": mb, "ic": ic, "oc": oc, "hw": hw, "k": k, "stride": s, "pad": p,
            "terms_per_output": ic * k * k, "kernels": kernels, "seconds": t,
            "over_torch": ratio,
            "binary64_fraction_of_limit": 8 * tt / t["binary64"], "binary64_fraction_of_limit_y": 4 * tt / t["binary64_y"],
            "auto_speedup_2_threads": t["auto"] / t["auto_2"],
        })
        fmt = lambda v: "-" if v is None else f"{v:.2f}"
        print(f"{name} mb{mb}: over torch: auto {fmt(ratio['auto'])} (y {fmt(ratio['auto_y'])}), binary64 "
              f"{fmt(ratio['binary64'])} (y {fmt(ratio['binary64_y'])}), integer {fmt(ratio['integer'])} "
              f"(y {fmt(ratio['integer_y'])}); auto 1->2 threads {t['auto'] / t['auto_2']:.2f}", file=sys.stderr)
    # The build's metadata, as every certconv document carries it.
    meta = certconv.analyze(np.ones((1, 1, 3, 3), np.float32), np.ones((1, 1, 1, 1), np.float32), orders="direct")
    doc = {"schema": "certconv.bench_truth_torch/2", "reps": reps, "statistic": "median wall seconds",
           "tool": meta["tool"], "libraries": meta["libraries"], "machine": meta["machine"],
           "torch": torch.__version__, "torch_threads": 1, "seed": 1, "results": rows}
    json.dump(doc, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
