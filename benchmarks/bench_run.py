"""`zigzag run` before and after the evaluation and extraction speed-ups, side by side on the same machine.

Usage, from the repository root::

    python benchmarks/bench_run.py                      # the demo (zigzag run defaults), 3 rounds
    python benchmarks/bench_run.py --repeat 5 -- --n-texts 200
    python benchmarks/bench_run.py --threads 1          # less sensitive to a busy machine

The "old" side is the package as it was at ``--old`` (default: the commit
before the evaluation shared one reference pass, the extraction batched texts
by length and the reference was read from the extraction pass), taken from git with
``git archive``; the "new" side is this working tree. Each round runs both,
in alternating order, as fresh processes (``python -m zigzag.cli run -q``
with the same arguments, each into a new folder), so imports, model loading
and every stage count. It prints each round's wall time, the medians, the
ratio new / old, and the median seconds of each stage from the two reports'
``run.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: main just before this change: its evaluation recomputed the full model for every plan.
OLD = "5095cb6"


def _old_tree(ref: str, into: Path) -> Path:
    """The ``zigzag`` package at ``ref``, unpacked under ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "zigzag"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _run(tree: Path, out: Path, extra, threads) -> tuple:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "MPLBACKEND": "Agg"}
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.perf_counter()
    # run from the output's folder: `python -m` puts the current folder first on the path
    done = subprocess.run([sys.executable, "-m", "zigzag.cli", "run", "-q", "--out", str(out), *extra], env=env,
                          cwd=out.parent, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"zigzag run failed in {tree}:\n{done.stderr}")
    return wall, json.loads((out / "run.json").read_text())["seconds"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default=OLD, help=f"git revision of the old side (default {OLD})")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of torch and BLAS on both sides (default: their own default); 1 makes the "
                             "comparison far less sensitive to other jobs on the machine")
    parser.add_argument("extra", nargs="*", help="arguments for zigzag run, after --")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "old").mkdir()
        trees = {"old": _old_tree(args.old, tmp / "old"), "new": ROOT}
        for side, tree in trees.items():  # each side must import its own package
            found = subprocess.run([sys.executable, "-c", "import zigzag; print(zigzag.__file__)"], cwd=tmp,
                                   env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True)
            if not found.stdout.startswith(str(tree)):
                raise SystemExit(f"the {side} side imports {found.stdout.strip()}, not the package in {tree}")
        walls = {"old": [], "new": []}
        stages = {"old": [], "new": []}
        threads = f"{args.threads} thread(s)" if args.threads else "default threads"
        print(f"zigzag run {' '.join(args.extra) or '(defaults)'}; old = {args.old}, new = working tree; {threads}; "
              f"load average {os.getloadavg()[0]:.1f} at start")
        for r in range(args.repeat):
            order = ("old", "new") if r % 2 == 0 else ("new", "old")
            for side in order:
                wall, seconds = _run(trees[side], tmp / f"{side}-{r}", args.extra, args.threads)
                walls[side].append(wall)
                stages[side].append(seconds)
            print(f"round {r + 1}: old {walls['old'][-1]:6.1f} s   new {walls['new'][-1]:6.1f} s   "
                  f"ratio {walls['new'][-1] / walls['old'][-1]:.2f}")
    old, new = statistics.median(walls["old"]), statistics.median(walls["new"])
    print(f"median: old {old:.1f} s, new {new:.1f} s, new / old = {new / old:.2f} "
          f"(load average {os.getloadavg()[0]:.1f} at end)")
    for side in ("old", "new"):
        names = list(dict.fromkeys(name for run in stages[side] for name in run))
        parts = [f"{name} {statistics.median(run.get(name, 0.0) for run in stages[side]):.1f}" for name in names]
        print(f"  {side} stages (median s): " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
