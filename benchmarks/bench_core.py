"""Time each stage of `zigzag.compute` and its peak memory on synthetic trajectories.

Usage::

    python benchmarks/bench_core.py                      # N = 1000, 2000, 5000, 10000
    python benchmarks/bench_core.py --sizes 1000 --classic

Each size runs in its own process so that the peak resident memory
(``ru_maxrss``) belongs to that size alone. Stages: kNN graphs, flag complexes
+ zigzag schedule, dionysus (fast engine, including building its filtration),
and the mapping of its diagrams to a Barcode. The ratios printed are each
stage's time over the engine's; the goal is that everything that is not
dionysus stays under 25% of it at N = 10000, with peak memory under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def run_one(n_points: int, n_layers: int, dim: int, k: int, max_dim: int, classic: bool) -> dict:
    import numpy as np

    from zigzag import Barcode
    from zigzag.complexes import flag_complex
    from zigzag.datasets import synthetic_trajectory
    from zigzag.engines import zigzag_bars
    from zigzag.filtration import zigzag_schedule
    from zigzag.knn import knn_graph

    clouds = synthetic_trajectory(n_layers, n_points, dim, n_loops=8, seed=0).astype(np.float32)
    t0 = time.perf_counter()
    graphs = [knn_graph(x, k) for x in clouds]
    t1 = time.perf_counter()
    schedule = zigzag_schedule([flag_complex(e, n_points, max_dim + 1) for e in graphs])
    t2 = time.perf_counter()
    dionysus_input = schedule.to_dionysus_input()
    t3 = time.perf_counter()
    bars = zigzag_bars(schedule, max_dim=max_dim)  # includes its own to_dionysus_input(); subtracted below
    t4 = time.perf_counter()
    barcode = Barcode.from_arrays(**bars, n_layers=n_layers)
    t5 = time.perf_counter()
    result = {
        "n_points": n_points, "n_simplices": schedule.n_simplices, "n_operations": schedule.n_operations,
        "n_bars": len(barcode), "knn_s": t1 - t0, "complexes_schedule_s": t2 - t1, "to_dionysus_s": t3 - t2,
        "engine_s": (t4 - t3) - (t3 - t2), "bar_mapping_s": t5 - t4,
    }
    if classic:
        t6 = time.perf_counter()
        slow = zigzag_bars(schedule, max_dim=max_dim, engine="classic")
        result["classic_s"] = time.perf_counter() - t6
        result["classic_equal"] = all(np.array_equal(slow[key], bars[key]) for key in bars)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del dionysus_input
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--layers", type=int, default=33)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--max-dim", type=int, default=1)
    parser.add_argument("--classic", action="store_true", help="also time the classic engine (~100x slower)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.layers, args.dim, args.k, args.max_dim, args.classic)))
        return
    header = (f"{'N':>6} {'simplices':>10} {'ops':>9} {'bars':>7} {'kNN s':>7} {'cx+sched s':>10} "
              f"{'to-dio s':>8} {'engine s':>8} {'map s':>6} {'non-dionysus/engine':>19} {'peak MB':>8}")
    print(f"n_layers={args.layers} D={args.dim} k={args.k} max_dim={args.max_dim}")
    print(header)
    for n_points in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n_points), "--layers", str(args.layers), "--dim",
               str(args.dim), "--k", str(args.k), "--max-dim", str(args.max_dim)] + (["--classic"] if args.classic else [])
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        ours = r["knn_s"] + r["complexes_schedule_s"] + r["to_dionysus_s"] + r["bar_mapping_s"]
        print(f"{r['n_points']:>6} {r['n_simplices']:>10} {r['n_operations']:>9} {r['n_bars']:>7} {r['knn_s']:>7.2f} "
              f"{r['complexes_schedule_s']:>10.2f} {r['to_dionysus_s']:>8.2f} {r['engine_s']:>8.2f} "
              f"{r['bar_mapping_s']:>6.2f} {ours / r['engine_s']:>19.1%} {r['peak_rss_mb']:>8.0f}")
        if args.classic:
            print(f"       classic engine {r['classic_s']:.2f} s = {r['classic_s'] / r['engine_s']:.0f}x the fast one; "
                  f"same bars: {r['classic_equal']}")


if __name__ == "__main__":
    main()
