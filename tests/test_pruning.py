"""Pruning plans: the plan type, the zigzag criterion by hand, and the authors' published plans.

On the 4-layer example (``four_layer_bars``, see tests/test_descriptors.py)
r = S̄_1 = [13, 19, 22, 18] / 24 over 4 representations: 3 blocks (0..2) and
the final norm (3), max r = 22/24.

* q = 0.9: threshold 19.8/24 -> block 2 only.
* q = 0.8: threshold 17.6/24 -> blocks 1, 2 (representation 3 is above it but never removed).
* m = 2: windows (0,1) 32/24, (1,2) 41/24 -> blocks 1, 2.
"""

import dataclasses
import json

import numpy as np
import pytest

from zigzag import compute
from zigzag.barcode import Barcode
from zigzag.datasets import synthetic_trajectory
from zigzag.pruning import (PrunePlan, best_window, format_blocks, prune_plan, prune_plans, pruning_profile,
                            threshold_blocks)


def test_profile_by_hand(four_layer_bars):
    np.testing.assert_allclose(pruning_profile(four_layer_bars), np.array([13, 19, 22, 18]) / 24)
    np.testing.assert_allclose(pruning_profile(four_layer_bars, normalization="row"), [1, 7 / 12, 2 / 3, 3 / 4])


@pytest.mark.parametrize("q, blocks", [(0.9, (2,)), (0.8, (1, 2)), (0.6, (1, 2)), (0.5, (0, 1, 2)), (0.0, (0, 1, 2)),
                                       (1.0, (2,))])
def test_threshold_plan_by_hand(four_layer_bars, q, blocks):
    plan = prune_plan(four_layer_bars, q=q)
    assert plan.blocks == blocks
    assert plan.n_blocks == 3 and plan.n_removed == len(blocks)
    assert plan.q == q and plan.blocks_requested is None
    assert plan.criterion == "zigzag-S1"
    np.testing.assert_allclose(plan.scores, np.array([13, 19, 22, 18]) / 24)


def test_final_representation_counts_for_the_maximum_but_stays():
    # r peaks at the final norm (layer 2): one bar alive in layers 1..2 and three only in layer 2
    bars = Barcode.from_arrays([1, 1, 1, 1], [2, 4, 4, 4], [5, 5, 5, 5], n_layers=3)
    r = pruning_profile(bars)
    assert int(r.argmax()) == 2
    plan = prune_plan(bars, q=0.0)
    assert plan.blocks == (0, 1) and 2 not in plan.blocks
    assert prune_plan(bars, q=1.0).blocks == ()


@pytest.mark.parametrize("m, blocks", [(1, (2,)), (2, (1, 2)), (3, (0, 1, 2))])
def test_window_plan_by_hand(four_layer_bars, m, blocks):
    plan = prune_plan(four_layer_bars, blocks=m)
    assert plan.blocks == blocks and plan.blocks_requested == m and plan.q is None


def test_several_plans_at_once(four_layer_bars):
    plans = prune_plans(four_layer_bars, q=[0.9, 0.8], blocks=[2])
    assert [p.label for p in plans] == ["q=0.9", "q=0.8", "m=2"]
    assert [p.blocks for p in plans] == [(2,), (1, 2), (1, 2)]
    assert prune_plans(four_layer_bars, q=np.float64(0.9))[0].blocks == (2,)


def test_plan_dimension_and_normalization_are_parameters(four_layer_bars):
    plan = prune_plan(four_layer_bars, q=0.9, normalization="row")
    assert plan.blocks == (0,)  # row-normalised r = [1, 7/12, 2/3, 3/4]
    assert plan.params["normalization"] == "row" and plan.params["dim"] == 1
    h0 = prune_plan(four_layer_bars, q=0.9, dim=0)
    assert h0.criterion == "zigzag-S0" and h0.blocks == (0, 1, 2)  # one H0 bar everywhere: r = 1


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"q": 1.5}, ValueError, "'q'"),
        ({"q": "0.9"}, TypeError, "'q'"),
        ({"q": None}, ValueError, "blocks"),
        ({"blocks": 0}, ValueError, "'blocks'"),
        ({"blocks": 4}, ValueError, "at most the number of blocks 3"),
        ({"dim": -1}, ValueError, "'dim'"),
        ({"normalization": "col"}, ValueError, "normalization"),
    ],
)
def test_parameter_errors(four_layer_bars, kwargs, error, words):
    with pytest.raises(error, match=words):
        prune_plan(four_layer_bars, **kwargs)


def test_needs_a_barcode():
    with pytest.raises(TypeError, match="Barcode"):
        prune_plan(np.zeros(4), q=0.9)


# ---------------------------------------------------------------- the plan type
def test_plan_type_contract():
    plan = PrunePlan("block-influence", blocks=[5, 3, 4, 3], n_blocks=8, scores=[0.1] * 8,
                     blocks_requested=3, params={"tokens": "all"})
    assert plan.blocks == (3, 4, 5) and plan.n_removed == 3
    assert plan.kept == (0, 1, 2, 6, 7)
    assert plan.ranges() == [(3, 5)]
    assert "3-5" in plan.describe() and "3 of 8" in plan.describe()
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.blocks = (1,)
    with pytest.raises(ValueError):
        plan.scores[0] = 2.0
    data = json.loads(json.dumps(plan.to_dict()))
    assert data == {
        "criterion": "block-influence", "blocks": [3, 4, 5], "n_blocks": 8, "n_removed": 3, "q": None,
        "blocks_requested": 3, "scores": [0.1] * 8, "params": {"tokens": "all"}, "degenerate": None,
    }
    back = PrunePlan.from_dict(data)
    assert back.blocks == plan.blocks and back.criterion == plan.criterion and back.n_blocks == 8
    with pytest.raises(ValueError, match="0..7"):
        PrunePlan("x", blocks=[8], n_blocks=8, scores=[])
    assert PrunePlan("x", blocks=[], n_blocks=4, scores=[]).ranges() == []


def test_generic_rules():
    assert best_window([3, 1, 0, 0, 5], 2, highest=False) == (2, 3)
    assert best_window([3, 1, 0, 0, 5], 2) == (3, 4)
    assert best_window([1, 1, 1], 2) == (0, 1)  # ties: earliest
    with pytest.raises(ValueError, match="m <= 3"):
        best_window([1, 1, 1], 4)
    assert threshold_blocks([0.5, 1.0, 0.95, 2.0], 0.5) == (1,)  # 0.5 * max = 1.0; the last entry never counts
    assert threshold_blocks([0.5, 1.0, 0.95, 2.0], 0.45) == (1, 2)


# ---------------------------------------------------------------- the authors' numbers
def test_llama2_reference_plans(llama2_csv):
    bars = Barcode.from_reference_csv(llama2_csv)
    q90, q80 = prune_plans(bars, q=[0.9, 0.8])
    assert q90.blocks == tuple(range(20, 28)) and q90.n_blocks == 32
    assert q80.blocks == tuple(range(18, 30))
    assert q90.scores.shape == (33,)


def test_llama3_reference_peak(llama3_csv):
    plan = prune_plan(Barcode.from_reference_csv(llama3_csv), blocks=8)
    assert int(np.argmax(plan.scores)) == 23 and round(float(plan.scores.max()), 3) == 0.282
    assert 23 in plan.blocks and plan.n_removed == 8


# ---------------------------------------------------------------- degenerate plans and profiles that name nothing
@pytest.mark.parametrize("blocks, n_blocks, reason", [
    (range(6), 6, "removes all 6 blocks"),
    (range(5), 6, "keeps only 1 of 6 blocks"),
    ([0, 2, 3, 4, 5], 6, "keeps only 1 of 6 blocks"),
    ([0], 1, "removes all 1 blocks"),
    (range(4), 6, None),
    ([], 6, None),
    ([], 1, None),
    ([], 0, None),
])
def test_degenerate_plans_say_why(blocks, n_blocks, reason):
    plan = PrunePlan("manual", blocks=blocks, n_blocks=n_blocks, scores=[])
    assert plan.degenerate == reason
    assert plan.to_dict()["degenerate"] == reason
    assert PrunePlan.from_dict(plan.to_dict()).degenerate == reason
    assert ("degenerate" in plan.describe()) == (reason is not None)


def test_a_flat_profile_gives_a_degenerate_plan_not_an_error(four_layer_bars):
    plans = prune_plans(four_layer_bars, q=[0.0, 0.5, 0.9])
    assert [p.degenerate for p in plans] == ["removes all 3 blocks", "removes all 3 blocks", None]


@pytest.mark.parametrize("blocks, text", [([3, 4, 5, 9], "3-5, 9"), ([], "none"), ([7], "7"), ((2, 1, 1, 0), "0-2"),
                                          (range(20, 28), "20-27"), ([1, 3, 5], "1, 3, 5")])
def test_format_blocks(blocks, text):
    assert format_blocks(blocks) == text
    assert format_blocks(PrunePlan("x", blocks=blocks, n_blocks=30, scores=[])) == text


@pytest.fixture(scope="module")
def h0_h1_bars():
    return compute(synthetic_trajectory(4, 40, 3, seed=1), k=4, max_dim=1, progress=False)


def test_dimension_above_the_barcode_is_an_error_naming_the_fix(h0_h1_bars):
    assert prune_plans(h0_h1_bars, q=0.9)[0].scores.max() > 0  # H1 is fine
    with pytest.raises(ValueError, match=r"computed up to H1 only.*--dim 1.*--max-dim 2"):
        prune_plans(h0_h1_bars, q=0.9, dim=2)


def test_max_dim_0_barcode_is_an_error_naming_the_fix():
    bars = compute(synthetic_trajectory(4, 40, 3, seed=1), k=4, max_dim=0, progress=False)
    with pytest.raises(ValueError, match=r"computed up to H0 only.*--max-dim 1"):
        prune_plan(bars, q=0.9)
    with pytest.raises(ValueError, match="zero at every layer"):
        prune_plan(bars, blocks=2)  # a window on a zero profile would be arbitrary too


def test_identical_points_are_an_error_naming_the_fix():
    clouds = np.repeat(np.ones((3, 1, 5)), 12, axis=1)  # 12 copies of one point in each of 3 layers
    bars = compute(clouds, k=3, max_dim=1, progress=False)
    assert not np.any(bars.dimension == 1)
    with pytest.raises(ValueError, match="no H1 bars.*identical"):
        prune_plans(bars, q=[0.9, 0.8])


def test_bars_that_live_only_inside_links_are_an_error():
    bars = Barcode.from_arrays([0, 1], [1, 3], [7, 4], n_layers=4, params={"max_dim": 1})  # H1 bar inside one link
    with pytest.raises(ValueError, match="its one H1 bar lives only inside one link"):
        prune_plans(bars, q=0.9)
