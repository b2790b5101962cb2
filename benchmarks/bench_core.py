"""Time `zigzag.compute` stage by stage against its floors, in one run per size.

Usage::

    python benchmarks/bench_core.py                       # N = 2000, 5000, 10000, 20000
    python benchmarks/bench_core.py --sizes 10000 --json bench.json
    python benchmarks/bench_core.py --sizes 1000 --classic     # also the classic engine (slow)
    python benchmarks/bench_core.py --sizes 2000 --drift 0.25 --noise 0.05   # a harder trajectory
    python benchmarks/bench_core.py --sizes 10000 --dim 4096 --device cuda    # kNN products on a GPU

The trajectory (`moving_trajectory`) is built to give a barcode as large as a
real model's: at N = 10,000 points, D = 256, 33 layers, k = 5 and H0-H1 it has
1.56 M zigzag operations and 365 k bars (Llama 2 7B on Pile-10k has 190 k),
with the authors' share of long bars. Each size runs in a fresh process, which
first checks that the numba kernels load from their cache (a fresh process
must not compile), then measures in that process:

1. `zigzag.compute` end to end: its own stage timings and its peak memory;
2. the kNN against the float32 GEMM floor (the same product ``x @ x.T``, full
   rows, in blocks), layer by layer in turn, so that both see the same load;
3. the fast engine, dionysus' fast engine alone (``fast_zigzag`` +
   ``homology_persistence(method="clearing")`` + ``init_zigzag_diagrams``, its
   list input built outside the timing), and the fast engine again: the
   engine's time is the mean of the runs before and after dionysus;
4. whether the engines (and `compute`) give identical bars.

Goals (issue 15): engine <= 0.3x dionysus alone, kNN <= 1.3x the GEMM floor,
total compute <= 0.6x dionysus alone, identical bars, peak memory < 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def moving_trajectory(n_layers: int, n_points: int, dim: int, *, rank: int = 16, drift: float = 0.05,
                      noise: float = 0.1, seed: int = 0):
    """Points on a rank-``rank`` Gaussian that random-walk from layer to layer, plus isotropic noise (float32)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(dim, rank)))[0].T
    latent = rng.normal(size=(n_points, rank))
    out = np.empty((n_layers, n_points, dim), np.float32)
    for layer in range(n_layers):
        out[layer] = latent @ basis + noise * rng.normal(size=(n_points, dim))
        latent = latent + drift * rng.normal(size=latent.shape)
    return out


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _gemm_floor(x, device) -> float:
    """Seconds for the float32 product ``x @ x.T`` of one layer, full rows, in blocks of 64 MiB of output."""
    import numpy as np

    n_points = x.shape[0]
    block = max(256, (64 * 2**20) // (4 * n_points))
    if device is None:
        start = time.perf_counter()
        x = np.ascontiguousarray(x, dtype=np.float32)
        xt = np.ascontiguousarray(x.T)
        for first in range(0, n_points, block):
            x[first:first + block] @ xt
        return time.perf_counter() - start
    import torch

    torch.set_float32_matmul_precision("highest")
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    start = time.perf_counter()
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
    xt = x.T.contiguous()
    for first in range(0, n_points, block):
        (x[first:first + block] @ xt).min()
    sync()
    return time.perf_counter() - start


def _knn_parts(x, k: int) -> dict:
    """One layer's numpy kNN, serially: float32 strip products, candidate selection, and the whole call."""
    import numpy as np

    import zigzag.knn as knn
    from zigzag.knn import kernels

    prepared = knn._prepare(knn._as_float64(x), "euclidean")
    bound = knn._Bound(prepared)
    products = knn._NumpyProducts(bound, None)
    n_points, look = x.shape[0], k + knn._EXTRA + 1
    vals = np.full((n_points, look), np.inf, np.float32)
    idx = np.full((n_points, look), -1, np.int64)
    thr = np.full(n_points, np.inf, np.float32)
    gemm_s = select_s = 0.0
    for first in range(0, n_points, products.block):
        start = time.perf_counter()
        strip = products._strip(first)
        middle = time.perf_counter()
        kernels.update_strip(strip, first, bound.sq32, vals, idx, thr)
        gemm_s += middle - start
        select_s += time.perf_counter() - middle
    start = time.perf_counter()
    _, uncertified = knn._knn(x, k, metric="euclidean", block_size=None, device=None)
    return {"strip_products_s": gemm_s, "selection_s": select_s, "whole_layer_s": time.perf_counter() - start,
            "uncertified_rows": uncertified}


def run_one(n_points: int, n_layers: int, dim: int, k: int, max_dim: int, classic: bool = False,
            drift: float = 0.05, noise: float = 0.1, device=None) -> dict:
    import numpy as np

    t0 = time.perf_counter()
    from zigzag.complexes import flag_complex
    from zigzag.engines import _import_dionysus, reduction, zigzag_bars
    from zigzag.engines.cone import bars_from_pairs, cone_matrix
    from zigzag.filtration import zigzag_schedule
    from zigzag.knn import graph_from_neighbours, kernels, knn_indices
    from zigzag.pipeline import compute, warm_up

    t1 = time.perf_counter()
    warm_up()  # loads the kernels from numba's cache; a compile here would count as a miss
    t2 = time.perf_counter()
    compiled = [kernels.update_strip, kernels.refine, kernels.collect, reduction._reduce, reduction._union_find]
    misses = sum(sum(f.stats.cache_misses.values()) for f in compiled)
    clouds = moving_trajectory(n_layers, n_points, dim, drift=drift, noise=noise)

    # 1. zigzag compute end to end: its own stage timings and its peak memory
    bars = compute(clouds, k=k, max_dim=max_dim, progress=False, device=device)
    result = {"n_points": n_points, "n_layers": n_layers, "dim": dim, "k": k, "max_dim": max_dim, "drift": drift,
              "noise": noise, "device": device, "jit_cache_misses": misses, "import_s": t1 - t0,
              "kernel_load_s": t2 - t1, "compute": dict(bars.params["timings"]), "peak_compute_mb": _peak_mb(),
              "n_bars": len(bars)}

    # 2. kNN against the GEMM floor, layer by layer in turn, so that both see the same load
    floor_s = knn_s = 0.0
    complexes = []
    for x in clouds:
        floor_s += _gemm_floor(x, device)
        start = time.perf_counter()
        nbrs = knn_indices(x, k, device=device)
        knn_s += time.perf_counter() - start
        complexes.append(flag_complex(graph_from_neighbours(nbrs), n_points, max_dim + 1))
    result.update(gemm_floor_s=floor_s, knn_s=knn_s, knn_layer=_knn_parts(clouds[n_layers // 2], k))

    # 3. the fast engine before and after dionysus alone (its list input built outside the timing)
    schedule = zigzag_schedule(complexes)
    result["n_operations"] = schedule.n_operations
    start = time.perf_counter()
    cone = cone_matrix(schedule)
    middle = time.perf_counter()
    births, deaths, stats = reduction.persistence_pairs(cone)
    end = time.perf_counter()
    bars_from_pairs(cone, births, deaths)
    result["engine_parts"] = {"cone_s": middle - start, "reduction_s": end - middle,
                              "bars_s": time.perf_counter() - end, "additions": stats["additions"],
                              "cells": cone.n_cells}
    del cone
    start = time.perf_counter()
    fast = zigzag_bars(schedule, max_dim=max_dim)
    engine_runs = [time.perf_counter() - start]
    d = _import_dionysus()
    simplices, times = schedule.to_dionysus_input()
    start = time.perf_counter()
    cone_d = d.fast_zigzag(simplices, times)
    middle = time.perf_counter()
    reduced = d.homology_persistence(cone_d, method="clearing")
    end = time.perf_counter()
    diagrams = d.init_zigzag_diagrams(reduced, cone_d)
    result["dionysus"] = {"fast_zigzag_s": middle - start, "reduction_s": end - middle,
                          "diagrams_s": time.perf_counter() - end}
    result["dionysus_s"] = sum(result["dionysus"].values())
    del diagrams, reduced, cone_d, simplices, times
    start = time.perf_counter()
    zigzag_bars(schedule, max_dim=max_dim)
    engine_runs.append(time.perf_counter() - start)
    result["engine_s"] = sum(engine_runs) / 2
    result["engine_runs_s"] = engine_runs
    reference = zigzag_bars(schedule, max_dim=max_dim, engine="dionysus")
    same = all(np.array_equal(fast[key], reference[key]) for key in fast)
    same &= bars.same_bars(type(bars).from_arrays(**fast, n_layers=n_layers), check_types=True)
    result["identical_bars"] = bool(same)
    if classic:
        start = time.perf_counter()
        slow = zigzag_bars(schedule, max_dim=max_dim, engine="classic")
        result["classic_s"] = time.perf_counter() - start
        result["classic_identical"] = all(np.array_equal(fast[key], slow[key]) for key in fast)
    result["peak_total_mb"] = _peak_mb()
    return result


def _row(r: dict) -> str:
    c, dio = r["compute"], r["dionysus_s"]
    return (f"| {r['n_points']:,} | {r['n_operations']:,} | {r['n_bars']:,} | {r['gemm_floor_s']:.1f} | "
            f"{r['knn_s']:.1f} ({r['knn_s'] / r['gemm_floor_s']:.2f}x) | {r['engine_s']:.1f} "
            f"({r['engine_s'] / dio:.2f}x) | {dio:.1f} | {c['knn']:.1f} + {c['complexes']:.1f} + {c['engine']:.1f} = "
            f"{c['total']:.1f} ({c['total'] / dio:.2f}x) | {r['peak_compute_mb']:,.0f} | "
            f"{'yes' if r['identical_bars'] else 'NO'} |")


HEADER = ("| N | operations | bars | GEMM floor s | kNN s (/floor) | engine s (/dionysus) | dionysus alone s | "
          "compute: kNN + complexes + engine = total s (/dionysus) | peak MB | same bars |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 10000, 20000])
    parser.add_argument("--layers", type=int, default=33)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--max-dim", type=int, default=1)
    parser.add_argument("--classic", action="store_true", help="also time dionysus' classic engine (the slow oracle)")
    parser.add_argument("--drift", type=float, default=0.05, help="latent random-walk step per layer (default 0.05)")
    parser.add_argument("--noise", type=float, default=0.1, help="fresh isotropic noise per layer (default 0.1)")
    parser.add_argument("--device", default=None, help="torch device for the kNN products and the GEMM floor")
    parser.add_argument("--json", help="also write every measurement to this JSON file")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.layers, args.dim, args.k, args.max_dim, args.classic, args.drift,
                                 args.noise, args.device)))
        return
    env = dict(os.environ)
    subprocess.run([sys.executable, "-c", "from zigzag.pipeline import warm_up; warm_up()"], check=True, env=env)
    print(f"n_layers={args.layers} D={args.dim} k={args.k} max_dim={args.max_dim} drift={args.drift} "
          f"noise={args.noise} device={args.device or 'numpy'}; "
          f"load average before: {os.getloadavg()[0]:.1f}")
    print(HEADER)
    results = []
    for n_points in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n_points), "--layers", str(args.layers), "--dim",
               str(args.dim), "--k", str(args.k), "--max-dim", str(args.max_dim), "--drift", str(args.drift),
               "--noise", str(args.noise)] + (["--classic"] if args.classic else []) + \
            (["--device", args.device] if args.device else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        r = json.loads(out.strip().splitlines()[-1])
        r["load_average"] = os.getloadavg()[0]
        results.append(r)
        print(_row(r), flush=True)
    for r in results:
        parts, dio = r["engine_parts"], r["dionysus"]
        kl = r["knn_layer"]
        print(f"N={r['n_points']}: one layer's kNN {kl['whole_layer_s']:.2f} s = strip products "
              f"{kl['strip_products_s']:.2f} + selection {kl['selection_s']:.2f} (serial here; overlapped in "
              f"compute) + the rest; GEMM floor per layer {r['gemm_floor_s'] / r['n_layers']:.2f} s; "
              f"uncertified rows {kl['uncertified_rows']}")
        print(f"N={r['n_points']}: fast engine runs {r['engine_runs_s'][0]:.2f} s and {r['engine_runs_s'][1]:.2f} s "
              f"(before and after dionysus); engine = cone {parts['cone_s']:.2f} + reduction {parts['reduction_s']:.2f} "
              f"({parts['additions']:,} additions, {parts['cells']:,} cells) + bars {parts['bars_s']:.2f} s; "
              f"dionysus = fast_zigzag {dio['fast_zigzag_s']:.2f} + clearing {dio['reduction_s']:.2f} + "
              f"diagrams {dio['diagrams_s']:.2f} s; numba cache misses {r['jit_cache_misses']} (import "
              f"{r['import_s']:.1f} s, kernels loaded in {r['kernel_load_s']:.1f} s); peak with dionysus {r['peak_total_mb']:,.0f} MB; "
              f"load average after {r['load_average']:.1f}")
        if "classic_s" in r:
            print(f"N={r['n_points']}: classic engine {r['classic_s']:.1f} s = {r['classic_s'] / r['engine_s']:.0f}x the "
                  f"fast engine; same bars: {r['classic_identical']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
