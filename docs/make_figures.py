"""Regenerate the explanatory figures of docs/concepts.md (and, optionally, those of docs/descriptors.md).

Usage, from the repository root::

    python docs/make_figures.py                      # docs/img/concept_*.png and panels.png
    python docs/make_figures.py --reference LLAMA2_CSV LLAMA3_CSV
                                                     # also the descriptor figures of docs/descriptors.md

The concept figures are drawn from the package itself (``zigzag.synthetic_trajectory``,
``zigzag.knn``, ``zigzag.complexes``, ``zigzag.compute`` and ``zigzag.plotting``), with fixed seeds,
so running the script again gives the same pictures. The descriptor figures need the authors'
published barcodes (Llama 2 7B on Pile-10k and Llama 3 8B on SST, k = 5), which are not part of
the project: pass their paths.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402

import zigzag  # noqa: E402
import zigzag.plotting as zp  # noqa: E402
from zigzag.complexes import knn_complex  # noqa: E402
from zigzag.plotting import DIM_COLORS  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
DPI = 100
# the 3-layer example of concepts.md: layers 0..2 of a 5-layer trajectory in the plane, one loop opening up
SMALL = dict(n_layers=5, n_points=40, dim=2, n_loops=1, noise=0.05, seed=4)
SMALL_LAYERS = slice(0, 3)
SMALL_K = 4
LARGE = dict(n_layers=12, n_points=600, dim=16, seed=0)  # the barcode example of concepts.md
LARGE_K = 5
PANELS = dict(n_layers=10, n_points=300, dim=8, seed=0)  # the barcode of plotting.md
PANELS_K = 5
# the authors' CSVs record no max_dim: their complexes stop at 4-simplices, so H_0..H_3 are exact
REFERENCE_MAX_DIM = 3


def _save(fig, name: str) -> Path:
    fig = fig if hasattr(fig, "savefig") else fig.figure  # every zp.plot_* returns its Axes
    path = IMG / name
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(f"wrote {path.relative_to(IMG.parent.parent)} ({path.stat().st_size / 1024:.0f} KB)")
    return path


def _simplex_sets(cx):
    return {d: {tuple(s) for s in cx.simplices[d].tolist()} for d in (1, 2)}


def _draw_complex(ax, pos, edges, triangles, *, colors, title, subtitle):
    if triangles:
        ax.add_collection(PolyCollection([pos[list(t)] for t in sorted(triangles)], facecolors="#56B4E9",
                                         alpha=0.35, edgecolors="none", zorder=1))
    if edges:
        ax.add_collection(LineCollection([pos[list(e)] for e in sorted(edges)], colors="0.25", linewidths=0.8,
                                         zorder=2))
    ax.scatter(pos[:, 0], pos[:, 1], s=14, c=colors, zorder=3, linewidths=0)
    ax.set_title(title, fontsize=11)
    ax.text(0.5, -0.04, subtitle, transform=ax.transAxes, ha="center", va="top", fontsize=9)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def figure_sequence() -> Path:
    """K_0 ⊇ K_0∩K_1 ⊆ K_1 ⊇ K_1∩K_2 ⊆ K_2 for 40 points in the plane, k = 4."""
    clouds = zigzag.synthetic_trajectory(**SMALL)[SMALL_LAYERS]
    complexes = [knn_complex(x, SMALL_K, max_dim=1) for x in clouds]
    sets = [_simplex_sets(c) for c in complexes]
    betti = zigzag.compute(clouds, k=SMALL_K, max_dim=1, progress=False).betti_numbers()
    # one colour per point, the same in every panel (point i is the same input in every layer),
    # chosen by the point's angle on the last layer's circle so that neighbours look alike
    last = clouds[-1] - clouds[-1].mean(0)
    hue = (np.arctan2(last[:, 1], last[:, 0]) + np.pi) / (2 * np.pi)
    colors = plt.get_cmap("twilight")(hue)
    fig, axes = plt.subplots(1, 5, figsize=(13.5, 3.6))
    fig.subplots_adjust(left=0.01, right=0.99, top=0.8, bottom=0.17, wspace=0.2)
    for step, ax in enumerate(axes):
        layer = step // 2
        if step % 2 == 0:
            pos, s = clouds[layer], sets[layer]
            title = f"$K_{layer}$"
            sub = (f"step t = {step}: layer {layer}\n{len(s[1])} edges, {len(s[2])} triangles, "
                   f"$\\beta_1$ = {betti[1, layer]}")
        else:
            a, b = sets[layer], sets[layer + 1]
            s = {d: a[d] & b[d] for d in (1, 2)}
            pos = (clouds[layer] + clouds[layer + 1]) / 2  # drawn halfway; only the vertex sets matter
            title = f"$K_{layer} \\cap K_{layer + 1}$"
            sub = f"step t = {step}: simplices in both\n{len(s[1])} edges, {len(s[2])} triangles"
        _draw_complex(ax, pos, s[1], s[2], colors=colors, title=title, subtitle=sub)
        centre = pos.mean(0)
        half = 1.15 * np.abs(pos - centre).max()  # each panel zoomed to its own points
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[1] - half, centre[1] + half)
    for left, right, symbol in [(0, 1, "$\\supseteq$"), (1, 2, "$\\subseteq$"), (2, 3, "$\\supseteq$"),
                                (3, 4, "$\\subseteq$")]:
        x = (axes[left].get_position().x1 + axes[right].get_position().x0) / 2
        fig.text(x, 0.49, symbol, ha="center", va="center", fontsize=18)
    fig.suptitle(f"A zigzag over 3 layers: kNN flag complexes (k = {SMALL_K}, edges and shaded triangles) and their "
                 "intersections.\nColour follows the point (input), which is the same vertex in every layer; "
                 "each panel is zoomed to its points; intersections drawn at the mean positions.", fontsize=10)
    return _save(fig, "concept_zigzag.png")


def figure_steps() -> Path:
    """The bars of the same example on the step axis, with their layer spans."""
    clouds = zigzag.synthetic_trajectory(**SMALL)[SMALL_LAYERS]
    bars = zigzag.compute(clouds, k=SMALL_K, max_dim=1, progress=False)
    n = bars.n_layers
    fig, ax = plt.subplots(figsize=(8.5, 4.2), layout="constrained")
    order = np.lexsort((bars.death_step, bars.birth_step, bars.dimension))
    row = 0
    for i in order:
        p, b, d = int(bars.dimension[i]), int(bars.birth_step[i]), int(bars.death_step[i])
        intra = bars.birth_layer[i] == bars.death_layer[i]
        ax.plot([b - 0.4, d - 0.6], [row, row], color=DIM_COLORS[p], lw=2.2, ls=":" if intra else "-",
                solid_capstyle="butt")
        ax.plot([b - 0.4], [row], marker="|", ms=8, color=DIM_COLORS[p])
        first, last = int(bars.birth_layer[i]), int(bars.death_layer[i]) - 1
        span = "dropped (inside one intersection)" if intra else (
            f"layer {first}" if first == last else f"layers {first}..{last}")
        ax.text(2 * n - 0.35, row, f"$H_{p}$ steps [{b}, {d}), type {bars.interval_type[i]}: {span}",
                va="center", fontsize=8, color="0.2")
        row += 1
    for t in range(2 * n):
        ax.axvspan(t - 0.5, t + 0.5, color="#FBE3D6" if t == 2 * n - 1 else ("0.93" if t % 2 else "white"),
                   zorder=0, lw=0)
    labels = []
    for t in range(2 * n):
        if t == 2 * n - 1:
            labels.append(f"{t}\ndelete\nall")
        elif t % 2 == 0:
            labels.append(f"{t}\n$K_{t // 2}$")
        else:
            labels.append(f"{t}\n$K_{t // 2}\\cap K_{t // 2 + 1}$")
    ax.set_xticks(range(2 * n))
    ax.set_xticklabels(labels, fontsize=8.5)
    ax.set_xlim(-0.5, 2 * n + 4.3)
    ax.set_ylim(row, -1)
    ax.set_yticks([])
    ax.set_xlabel("zigzag step t (grey: intersections)")
    handles = [plt.Line2D([], [], color=DIM_COLORS[0], lw=2.2, label="$H_0$ bar"),
               plt.Line2D([], [], color=DIM_COLORS[1], lw=2.2, label="$H_1$ bar"),
               plt.Line2D([], [], color="0.3", lw=2.2, ls=":", label="only inside an intersection")]
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.set_title(f"Every bar of the 3-layer example, on steps birth ≤ t < death ({len(bars)} bars)", fontsize=11)
    return _save(fig, "concept_steps.png")


def figure_barcode() -> Path:
    """A longer trajectory: its H_1 barcode, persistence diagram and Betti curves in layer units."""
    clouds = zigzag.synthetic_trajectory(**LARGE)
    bars = zigzag.compute(clouds, k=LARGE_K, max_dim=1, progress=False)
    fig, axes = plt.subplots(1, 3, figsize=(14.0, 4.2), layout="constrained")
    zp.plot_barcode(bars, dim=1, ax=axes[0])
    zp.plot_diagram(bars, ax=axes[1])
    zp.plot_betti(bars, ax=axes[2], logy=True)
    fig.suptitle(f"synthetic_trajectory(n_layers={LARGE['n_layers']}, n_points={LARGE['n_points']}, "
                 f"dim={LARGE['dim']}, seed={LARGE['seed']}), k = {LARGE_K}: {bars}", fontsize=10)
    return _save(fig, "concept_barcode.png")


def figure_panels() -> Path:
    """The "Several panels" example of docs/plotting.md, drawn exactly as the page does."""
    clouds = zigzag.synthetic_trajectory(**PANELS)
    bars = zigzag.compute(clouds, k=PANELS_K, max_dim=1, progress=False)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    zp.plot_barcode(bars, 1, ax=axes[0])
    zp.plot_diagram(bars, ax=axes[1])
    profile = zp.plot_profile(bars, q=0.9, ax=axes[2])
    profile.set_ylim(bottom=0.1)
    return _save(fig, "panels.png")


def descriptor_figures(llama2_csv, llama3_csv) -> list:
    """The figures of docs/descriptors.md from the authors' two published barcodes."""
    from zigzag.descriptors import describe

    # the CSVs do not name their model: the titles get it from params
    a = zigzag.Barcode.from_reference_csv(llama2_csv, max_dim=REFERENCE_MAX_DIM,
                                          params={"model": "Llama 2 7B, Pile-10k"})
    b = zigzag.Barcode.from_reference_csv(llama3_csv, max_dim=REFERENCE_MAX_DIM, params={"model": "Llama 3 8B, SST"})
    pair = {"Llama 2 7B, Pile-10k": describe(a, dims=(1,), alpha=(0.0, 1.0)),
            "Llama 3 8B, SST": describe(b, dims=(1,), alpha=(0.0, 1.0), brf_index="death")}
    out = [
        _save(zp.plot_histogram(b, 1), "histogram.png"),
        _save(zp.plot_diagram(b), "diagram.png"),  # H_0..H_2: H_4 is above max_dim
        _save(zp.plot_barcode(b, 1), "barcode.png"),
        _save(zp.plot_betti(b, dims=(0, 1, 2), logy=True), "betti.png"),
        _save(zp.plot_similarity(b, 1, normalize=True), "similarity.png"),
        _save(zp.plot_curves(pair, "average_similarity"), "average_similarity.png"),
        _save(zp.plot_curves(pair, "ilp", alpha=1.0), "ilp.png"),
        _save(zp.plot_curves({k: v for k, v in pair.items() if v.brf_index == "death"}, "brf", alpha=0.0),
              "brf.png"),
        _save(zp.plot_curves(pair, "correlation_length"), "correlation_length.png"),
        _save(zp.plot_profile(a, q=(0.9, 0.8)), "profile.png"),
    ]
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", nargs=2, metavar=("LLAMA2_CSV", "LLAMA3_CSV"),
                        help="also redraw the descriptor figures from the authors' two barcodes")
    args = parser.parse_args(argv)
    IMG.mkdir(exist_ok=True)
    figure_sequence()
    figure_steps()
    figure_barcode()
    figure_panels()
    if args.reference:
        descriptor_figures(*args.reference)


if __name__ == "__main__":
    main()
