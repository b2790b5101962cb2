"""Time `zigzag.cycles` (the top-k H1 representative cycles) against `zigzag.compute` on the same clouds.

Usage::

    python benchmarks/bench_cycles.py                    # N = 2000, 33 layers, top 10 H1 bars
    python benchmarks/bench_cycles.py --sizes 1000 2000 --repeat 3 --layer middle

Clouds as in bench_core.py: ``synthetic_trajectory(33, N, 256, n_loops=8,
seed=0)`` in float32. For each size, in one process, alternating the order
on each repeat: ``compute(clouds)``; ``cycles(clouds, top=...)``, which
computes the barcode itself (kNN complexes, schedule, engine) and then the
representatives; and ``cycles(clouds, barcode, top=...)``, which reuses a
barcode (kNN complexes and representatives only). Each time is the fastest of
the repeats, wall clock and process CPU (all threads); the goal is
``cycles / compute <= 2``.
"""

from __future__ import annotations

import argparse
import time


def timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run(n_points: int, n_layers: int, dim: int, k: int, top: int, layer, repeat: int) -> dict:
    import numpy as np

    import zigzag
    from zigzag.datasets import synthetic_trajectory

    clouds = synthetic_trajectory(n_layers, n_points, dim, n_loops=8, seed=0).astype(np.float32)
    best = {"compute": [np.inf, np.inf], "cycles": [np.inf, np.inf], "cycles_with_barcode": [np.inf, np.inf]}
    found = None
    for attempt in range(repeat):
        jobs = [("compute", lambda: zigzag.compute(clouds, k=k, progress=False)),
                ("cycles", lambda: zigzag.cycles(clouds, k=k, top=top, layer=layer, progress=False))]
        for name, job in (jobs if attempt % 2 == 0 else jobs[::-1]):
            result, wall, cpu = timed(job)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
            if name == "compute":
                bars = result
            else:
                found = result
        _, wall, cpu = timed(lambda: zigzag.cycles(clouds, bars, k=k, top=top, layer=layer, progress=False))
        best["cycles_with_barcode"] = [min(best["cycles_with_barcode"][0], wall),
                                       min(best["cycles_with_barcode"][1], cpu)]
    return {"n_points": n_points, "n_bars": len(bars), "n_cycles": len(found),
            "edges": [len(c.edges) for c in found], **best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000])
    parser.add_argument("--layers", type=int, default=33)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--layer", default="birth", help="birth, middle or a layer index")
    parser.add_argument("--repeat", type=int, default=2, help="runs per function; the fastest counts")
    args = parser.parse_args()
    layer = int(args.layer) if args.layer.isdigit() else args.layer
    print(f"n_layers={args.layers} D={args.dim} k={args.k} top={args.top} layer={args.layer} "
          f"(fastest of {args.repeat}; wall / CPU seconds)")
    print(f"{'N':>6} {'bars':>7} {'compute':>13} {'cycles':>13} {'ratio':>11} {'with barcode':>13} {'cycle edges':>12}")
    for n_points in args.sizes:
        r = run(n_points, args.layers, args.dim, args.k, args.top, layer, args.repeat)
        (cw, cc), (yw, yc), (bw, bc) = r["compute"], r["cycles"], r["cycles_with_barcode"]
        print(f"{n_points:>6} {r['n_bars']:>7} {cw:>6.1f}/{cc:<6.1f} {yw:>6.1f}/{yc:<6.1f} "
              f"{yw / cw:>5.2f}/{yc / cc:<5.2f} {bw:>6.1f}/{bc:<6.1f} {max(r['edges'] or [0]):>12}", flush=True)


if __name__ == "__main__":
    main()
