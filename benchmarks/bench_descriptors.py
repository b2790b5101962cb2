"""Time zigzag.describe on a random barcode of 1,000,000 bars over 81 layers.

Run: python benchmarks/bench_descriptors.py [--bars 1000000] [--layers 81] [--repeat 5]
"""

import argparse
import time

import numpy as np

from zigzag.barcode import Barcode
from zigzag.descriptors import describe
from zigzag.pruning import prune_plans


def random_barcode(n_bars: int, n_layers: int, seed: int = 0) -> Barcode:
    rng = np.random.default_rng(seed)
    last = 2 * n_layers - 1
    birth = rng.integers(0, last, n_bars)
    death = np.minimum(birth + 1 + rng.geometric(0.1, n_bars), last)
    dims = rng.choice([0, 1, 2], size=n_bars, p=[0.1, 0.8, 0.1])
    return Barcode.from_arrays(dims, birth, death, n_layers=n_layers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--layers", type=int, default=81)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bars = random_barcode(args.bars, args.layers)
    for label, run in [
        ("describe(dims=(0, 1, 2), alpha=(0, 1))", lambda: describe(bars, dims=(0, 1, 2))),
        ("prune_plans(q=[0.9, 0.8], blocks=[8])", lambda: prune_plans(bars, q=[0.9, 0.8], blocks=[8])),
    ]:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        print(f"{label}: {len(bars)} bars, {bars.n_layers} layers: best {min(times) * 1e3:.1f} ms, "
              f"median {np.median(times) * 1e3:.1f} ms over {args.repeat} runs")


if __name__ == "__main__":
    main()
