"""The figures of a report, each drawn on its own matplotlib Figure (no pyplot state, no backend switch)."""

from __future__ import annotations

from .._files import save_figure

__all__ = ["FIGURES", "draw_figures", "warm_up_figures"]

#: Figures of a report: file stem -> (caption, size in inches).
FIGURES = {
    "profile": ("Pruning profile r(l) = S̄_1(l) with the blocks each q removes shaded", (6.0, 3.6)),
    "diagram": ("Persistence diagram in layer units", (5.0, 4.6)),
    "histogram": ("Birth × persistence histogram of H_1 bars (log counts)", (5.5, 4.2)),
    "betti": ("Betti numbers per layer (log scale)", (5.5, 3.6)),
    "similarity": ("Persistence similarity S_1(i, j) / β_1(i)", (5.0, 4.3)),
}


def draw_figures(bars, plans, path_of) -> None:
    """Draw every figure of :data:`FIGURES` and save it as ``path_of("<stem>.png")``.

    ``plans`` are the zigzag plans, which share one profile (a degenerate
    plan is hatched).
    """
    from matplotlib.figure import Figure

    from ..plotting import plot_betti, plot_diagram, plot_histogram, plot_profile, plot_similarity

    draw = {
        "profile": lambda ax: plot_profile(plans, ax=ax),
        "diagram": lambda ax: plot_diagram(bars, ax=ax),
        "histogram": lambda ax: plot_histogram(bars, 1, ax=ax),
        "betti": lambda ax: plot_betti(bars, logy=True, ax=ax),
        "similarity": lambda ax: plot_similarity(bars, 1, ax=ax),
    }
    for name, (_, size) in FIGURES.items():
        fig = Figure(figsize=size, layout="constrained")
        draw[name](fig.add_subplot())
        save_figure(fig, path_of(f"{name}.png"), dpi=110)


def warm_up_figures() -> None:
    """Pay matplotlib's first-figure costs (imports, font cache, mathtext parser) on a throwaway figure.

    They are about two thirds of drawing a report's figures; ``zigzag run``
    pays them in the background while the model runs.
    """
    import io

    from matplotlib.figure import Figure

    from .. import plotting  # noqa: F401 - its imports are part of the cost

    fig = Figure(figsize=(2, 2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="$H_1$")
    ax.set(xlabel="layer", title=r"$\bar S_1$")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png", dpi=110)
