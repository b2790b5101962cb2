"""Time zigzag.distance on the authors' published barcodes (about 175,000 and 252,000 layer-level H_1 bars).

Usage::

    python benchmarks/bench_distance.py                 # zigzag's solvers only
    python benchmarks/bench_distance.py --gudhi         # also gudhi's point-by-point bottleneck (minutes)

The barcodes are read from ../shared/reference beside the repository (or --reference DIR). The
diagrams are compared in layer units, H_1, as the sweep compares its cells; each number is the
best of --repeat runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def _best(fn, repeat: int) -> tuple:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return value, min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--gudhi", action="store_true", help="also time gudhi.bottleneck_distance (slow)")
    args = parser.parse_args()

    from zigzag import Barcode
    from zigzag.distances import diagram_distance

    a = Barcode.load(args.reference / "llama2-7b_pile10k_knn5_dim4.csv").to_persim(1)
    b = Barcode.load(args.reference / "llama3-8b_sst_knn5_dim4.csv").to_persim(1)
    print(f"H1 layer-level bars: {len(a)} and {len(b)}; distinct points: "
          f"{len(np.unique(a, axis=0))} and {len(np.unique(b, axis=0))}")
    cases = {
        "bottleneck": lambda: diagram_distance(a, b),
        "wasserstein order 1, L-inf": lambda: diagram_distance(a, b, "wasserstein"),
        "wasserstein order 2, L2": lambda: diagram_distance(a, b, "wasserstein", order=2, internal_p=2),
    }
    if args.gudhi:
        import gudhi

        cases["gudhi.bottleneck_distance"] = lambda: gudhi.bottleneck_distance(a, b)
    for name, fn in cases.items():
        value, seconds = _best(fn, args.repeat)
        print(f"{name:<28} {value:>14.6g}   {seconds:7.2f} s")


if __name__ == "__main__":
    main()
