"""Plots: render under Agg and check what is drawn (points, segments, cells, spans, labels)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection, QuadMesh  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from zigzag import plotting  # noqa: E402
from zigzag.barcode import Barcode  # noqa: E402
from zigzag.descriptors import describe, inter_layer_persistence
from zigzag.pipeline import describe_subsets  # noqa: E402
from zigzag.pruning import prune_plans  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("library plots must not call plt.show / savefig / style.use")

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


def test_diagram_points_and_alive_line(four_layer_bars):
    fig, ax = plt.subplots()
    other = fig.add_subplot(2, 2, 4)
    out = plotting.plot_diagram(four_layer_bars, ax=ax)
    assert out is fig
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


def test_diagram_marker_size_grows_with_multiplicity():
    bars = Barcode.from_arrays([1] * 5, [0, 0, 0, 0, 2], [3, 3, 3, 3, 5], n_layers=3)
    fig = plotting.plot_diagram(bars, jitter=0)
    (scatter,) = fig.axes[0].collections
    offsets, sizes = scatter.get_offsets(), scatter.get_sizes()
    # four bars (0, 2) and one alive at the end (death layer n = 3 -> the line at n + 1.5)
    assert sorted(map(tuple, np.asarray(offsets).tolist())) == [(0.0, 2.0), (1.0, 4.5)]
    big = sizes[np.argmin(np.asarray(offsets)[:, 0])]
    assert big > sizes.min()


def test_barcode_segments(four_layer_bars):
    fig = plotting.plot_barcode(four_layer_bars, dim=1)
    ax = fig.axes[0]
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = sorted((float(s[0, 0]), float(s[1, 0])) for s in lines.get_segments())
    # alive in layers b..d-1 -> drawn from b - 0.5 to d - 0.5
    assert segments == [(-0.5, 3.5), (0.5, 1.5), (0.5, 2.5), (1.5, 3.5)]
    assert ax.get_xlabel() == "layer index"
    fig = plotting.plot_barcode(four_layer_bars, dim=1, max_bars=2)
    (lines,) = fig.axes[0].collections
    assert sorted((float(s[0, 0]), float(s[1, 0])) for s in lines.get_segments()) == [(-0.5, 3.5), (0.5, 2.5)]
    assert "longest 2 of 4" in fig.axes[0].get_title()


def test_histogram_cells(four_layer_bars):
    fig = plotting.plot_histogram(four_layer_bars, dim=1)
    ax = fig.axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    values = np.ma.filled(mesh.get_array(), 0).reshape(5, 4)  # rows: persistence 0..4, columns: birth 0..3
    expected = np.zeros((5, 4))
    expected[4, 0] = expected[2, 1] = expected[1, 1] = expected[2, 2] = 1
    np.testing.assert_array_equal(values, expected)
    assert ax.get_ylabel() == "persistence (layers)"
    assert len(fig.axes) == 2 and "log" in fig.axes[1].get_ylabel()  # colour bar
    fig = plotting.plot_histogram(describe(four_layer_bars, dims=(1,)), dim=1, view="death", colorbar=False)
    assert len(fig.axes) == 1 and fig.axes[0].get_ylabel().startswith("death layer")
    with pytest.raises(ValueError, match="view"):
        plotting.plot_histogram(four_layer_bars, view="lifetime")


def test_betti_lines(four_layer_bars):
    fig = plotting.plot_betti(four_layer_bars)
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    ys = {line.get_label(): line.get_ydata().tolist() for line in ax.lines}
    assert ys["$\\beta_1$"] == [1, 3, 3, 2] and ys["$\\beta_0$"] == [1, 1, 1, 1]
    assert ax.get_xlabel() == "layer index"


def test_similarity_heatmap(four_layer_bars):
    fig = plotting.plot_similarity(four_layer_bars, dim=1)
    (mesh,) = [c for c in fig.axes[0].collections if isinstance(c, QuadMesh)]
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(4, 4), inter_layer_persistence(four_layer_bars, 1))
    assert "layer j" in fig.axes[0].get_xlabel() and "layer i" in fig.axes[0].get_ylabel()
    fig = plotting.plot_similarity(four_layer_bars, dim=1, normalize=False, colorbar=False)
    (mesh,) = fig.axes[0].collections
    assert np.asarray(mesh.get_array()).reshape(4, 4)[1, 1] == 3


def test_curves_several_models_on_one_axes(four_layer_bars):
    bars5 = Barcode.from_arrays([1, 1], [0, 2], [9, 5], n_layers=5)
    fig = plotting.plot_curves({"four": four_layer_bars, "five": bars5}, "average_similarity")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["four", "five"]
    assert ax.lines[0].get_xdata().tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert ax.lines[1].get_xdata().tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    assert ax.lines[0].get_ydata().tolist() == pytest.approx(np.array([13, 19, 22, 18]) / 24)
    assert "relative depth" in ax.get_xlabel()
    fig = plotting.plot_curves(four_layer_bars, "ilp", alpha=1.0, relative=False)
    assert fig.axes[0].lines[0].get_ydata().tolist() == pytest.approx([1, 5 / 12, 1 / 2, 7 / 12])
    assert fig.axes[0].get_xlabel() == "layer index"
    with pytest.raises(ValueError, match="curve"):
        plotting.plot_curves(four_layer_bars, "landscape")


def test_curves_with_subset_band(monkeypatch):
    def fake_compute(clouds, **kwargs):
        return Barcode.from_arrays([1, 1], [0, 2 * int(clouds[0][0, 0] > 0)], [5, 5], n_layers=3)

    monkeypatch.setattr("zigzag.pipeline.compute", fake_compute)
    data = np.random.default_rng(1).normal(size=(3, 40, 2))
    result = describe_subsets(data, subset_size=10, n_subsets=4, seed=2, dims=(1,))
    fig = plotting.plot_curves({"subsets": result}, "betti")
    ax = fig.axes[0]
    assert len(ax.lines) == 1 and len(ax.collections) == 1  # mean line and its ±std band
    np.testing.assert_allclose(ax.lines[0].get_ydata(), result.mean.betti[1])


def test_profile_shades_the_plans(four_layer_bars):
    fig = plotting.plot_profile(four_layer_bars, q=(0.9, 0.8))
    ax = fig.axes[0]
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
    fig = plotting.plot_profile(plans)
    # one bar alive in layers 0-1: r = [1/2, 1/2, 0, 0] -> blocks 0 and 1, one contiguous span
    assert spans(fig.axes[0]) == [(-0.5, 1.5)]
    from zigzag.pruning import PrunePlan

    gappy = PrunePlan("angular-last", [1, 3], 4, np.zeros(5), blocks_requested=2)
    fig = plotting.plot_profile([gappy])
    assert spans(fig.axes[0]) == [(0.5, 1.5), (2.5, 3.5)]


def test_reference_profile_span_is_the_plan(llama2_csv):
    bars = Barcode.from_reference_csv(llama2_csv)
    fig = plotting.plot_profile(bars, q=[0.9])
    assert spans(fig.axes[0]) == [(19.5, 27.5)]


def test_wrong_inputs():
    with pytest.raises(TypeError, match="Barcode"):
        plotting.plot_diagram(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="PrunePlan"):
        plotting.plot_profile([1, 2])
    with pytest.raises(ValueError, match="q=0.9"):
        plotting.plot_profile(Barcode.from_arrays([1], [0], [3], n_layers=3), q=())
