"""Descriptors: hand-computed 4-layer example, brute-force oracles, the authors' numbers, subsets, vectoriser.

The 4-layer barcode (fixture ``four_layer_bars``) has H1 layer-level bars
A = [0, 4), B = [1, 3), C = [1, 2), D = [2, 4) (birth layer, death layer), so
by hand from the definitions in docs/descriptors.md:

* beta_1 = [1, 3, 3, 2]
* S_1 = [[1,1,1,1],[1,3,2,1],[1,2,3,2],[1,1,2,2]]
* S̄_1 (column) = [13, 19, 22, 18] / 24
* P_1 rows = [1,1,1,1], [1/3,1,2/3,1/3], [1/3,2/3,1,2/3], [1/2,1/2,1,1]
"""

import copy
import json
from fractions import Fraction as F

import numpy as np
import pytest

from zigzag.barcode import Barcode
from zigzag.pipeline import describe_subsets
from zigzag.descriptors import (
    DescriptorVectorizer,
    Descriptors,
    NotFittedError,
    average_similarity,
    betti_curve,
    birth_death_histogram,
    birth_persistence_histogram,
    births_relative_frequency,
    correlation_length,
    describe,
    ilp,
    inter_layer_persistence,
    similarity_matrix,
)

S_HAND = np.array([[1, 1, 1, 1], [1, 3, 2, 1], [1, 2, 3, 2], [1, 1, 2, 2]])
P_HAND = np.array([[1, 1, 1, 1], [1 / 3, 1, 2 / 3, 1 / 3], [1 / 3, 2 / 3, 1, 2 / 3], [1 / 2, 1 / 2, 1, 1]])


def fractions(values):
    return np.array([float(v) for v in values])


# ---------------------------------------------------------------- the hand-computed example
def test_histogram_by_hand(four_layer_bars):
    hist = birth_death_histogram(four_layer_bars, 1)
    expected = np.zeros((4, 5), dtype=int)
    expected[0, 4] = expected[1, 3] = expected[1, 2] = expected[2, 4] = 1
    assert hist.shape == (4, 5) and hist.dtype.kind == "i"
    np.testing.assert_array_equal(hist, expected)  # the two intra-intersection bars are dropped
    h0 = birth_death_histogram(four_layer_bars, 0)
    assert h0.sum() == 1 and h0[0, 4] == 1


def test_birth_persistence_by_hand(four_layer_bars):
    bp = birth_persistence_histogram(four_layer_bars, 1)
    expected = np.zeros((4, 5), dtype=int)
    expected[0, 4] = 1  # A: born 0, persistence 4
    expected[1, 2] = 1  # B: born 1, persistence 2
    expected[1, 1] = 1  # C: born 1, persistence 1
    expected[2, 2] = 1  # D: born 2, persistence 2
    np.testing.assert_array_equal(bp, expected)


def test_betti_and_similarity_by_hand(four_layer_bars):
    np.testing.assert_array_equal(betti_curve(four_layer_bars, 1), [1, 3, 3, 2])
    np.testing.assert_array_equal(similarity_matrix(four_layer_bars, 1), S_HAND)
    # layer-level Betti numbers agree with the step-based ones of the barcode
    np.testing.assert_array_equal(betti_curve(four_layer_bars, 1), four_layer_bars.betti_numbers([1])[0])


def test_average_similarity_by_hand(four_layer_bars):
    np.testing.assert_allclose(average_similarity(four_layer_bars, 1),
                               fractions([F(13, 24), F(19, 24), F(22, 24), F(18, 24)]))
    np.testing.assert_allclose(average_similarity(four_layer_bars, 1, normalization="row"),
                               fractions([1, F(7, 12), F(2, 3), F(3, 4)]))
    np.testing.assert_allclose(average_similarity(four_layer_bars, 1, normalization="none"), [1, 7 / 4, 2, 6 / 4])


def test_inter_layer_persistence_and_ilp_by_hand(four_layer_bars):
    np.testing.assert_allclose(inter_layer_persistence(four_layer_bars, 1), P_HAND)
    np.testing.assert_allclose(ilp(four_layer_bars, 1, alpha=0.0), fractions([1, F(7, 12), F(2, 3), F(3, 4)]))
    np.testing.assert_allclose(ilp(four_layer_bars, 1, alpha=1.0), fractions([1, F(5, 12), F(1, 2), F(7, 12)]))
    # alpha = 2, layer 1: weights [1, 0, 1, 4], sum 6; sum w P = 1/3 + 2/3 + 4/3 = 7/3
    assert ilp(four_layer_bars, 1, alpha=2.0)[1] == pytest.approx(7 / 18)


def test_brf_by_hand(four_layer_bars):
    np.testing.assert_allclose(births_relative_frequency(four_layer_bars, 1, 0.0), [1 / 4, 1 / 2, 1 / 4, 0])
    # persistence: A 4, B 2, C 1, D 2
    np.testing.assert_allclose(births_relative_frequency(four_layer_bars, 1, 1.0), [4 / 9, 3 / 9, 2 / 9, 0])
    # by last layer alive: A 3, B 2, C 1, D 3
    np.testing.assert_allclose(births_relative_frequency(four_layer_bars, 1, 0.0, index="death"), [0, 1 / 4, 1 / 4, 1 / 2])
    np.testing.assert_allclose(births_relative_frequency(four_layer_bars, 1, 1.0, index="death"), [0, 1 / 9, 2 / 9, 6 / 9])


def test_correlation_length_by_hand(four_layer_bars):
    full, left = correlation_length(four_layer_bars, 1, threshold=0.5)
    np.testing.assert_array_equal(full, [4, 2, 3, 2])  # P > 0.5 (strict: 1/2 does not count)
    np.testing.assert_array_equal(left, [1, 1, 2, 2])
    full, left = correlation_length(four_layer_bars, 1, threshold=0.3)
    np.testing.assert_array_equal(full, [4, 4, 4, 4])
    np.testing.assert_array_equal(left, [1, 2, 3, 4])


def test_zero_betti_is_zero_not_nan():
    # H1 alive only in layer 0 and only in layer 2: beta = [1, 0, 1]
    bars = Barcode.from_arrays([1, 1], [0, 4], [1, 5], n_layers=3)
    desc = describe(bars, dims=(1, 2), alpha=(0.0, 1.0))
    np.testing.assert_array_equal(desc.betti[1], [1, 0, 1])
    np.testing.assert_allclose(desc.average_similarity[1], [1 / 3, 0, 1 / 3])
    np.testing.assert_allclose(desc.persistence_matrix(1), np.diag([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(desc.ilp[1][0], [1 / 3, 0, 1 / 3])
    np.testing.assert_allclose(desc.ilp[1][1], [0, 0, 0])
    for name in ("betti", "average_similarity", "ilp", "brf", "correlation_length"):
        values = np.asarray(getattr(desc, name)[2], dtype=float)
        assert np.all(values == 0), name  # no H2 bars at all: zeros, never nan
    assert all(np.isfinite(np.asarray(v, dtype=float)).all() for v in desc.to_dict()["average_similarity"].values())


# ---------------------------------------------------------------- brute-force oracles on random barcodes
def random_barcode(rng, n_layers, n_bars):
    last = 2 * n_layers - 1
    birth = rng.integers(0, last, n_bars)
    death = np.minimum(birth + rng.integers(1, 2 * n_layers, n_bars), last)
    return Barcode.from_arrays(rng.integers(0, 3, n_bars), birth, death, n_layers=n_layers)


@pytest.mark.parametrize("seed", range(8))
def test_vectorised_matches_loops_over_bars(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    bars = random_barcode(rng, n, int(rng.integers(0, 60)))
    p = 1
    alpha = float(rng.choice([0.0, 0.5, 1.0, 2.0]))
    sel = [(b, d) for dim, b, d in zip(bars.dimension, bars.birth_layer, bars.death_layer) if dim == p and b < d]
    S = np.array([[sum(1 for b, d in sel if b <= min(i, j) and d > max(i, j)) for j in range(n)] for i in range(n)])
    beta = np.array([sum(1 for b, d in sel if b <= i < d) for i in range(n)])
    sbar = [sum(S[i, j] / beta[j] for j in range(n) if beta[j]) / n for i in range(n)]
    P = np.array([[S[i, j] / beta[i] if beta[i] else 0.0 for j in range(n)] for i in range(n)])
    ilp_loop = []
    for i in range(n):
        w = [abs(i - j) ** alpha if (i != j or alpha == 0) else 0.0 for j in range(n)]
        ilp_loop.append(sum(wj * P[i, j] for j, wj in enumerate(w)) / sum(w) if sum(w) else 0.0)
    weights = np.zeros(n)
    for b, d in sel:
        weights[b] += (d - b) ** alpha
    brf_loop = weights / weights.sum() if weights.sum() else weights

    desc = describe(bars, dims=(p,), alpha=(alpha,))
    np.testing.assert_array_equal(desc.similarity[p], S)
    np.testing.assert_array_equal(desc.betti[p], beta)
    np.testing.assert_array_equal(desc.betti[p], bars.betti_numbers([p])[0])
    np.testing.assert_allclose(desc.average_similarity[p], sbar)
    np.testing.assert_allclose(desc.ilp[p][0], ilp_loop, atol=1e-12)
    np.testing.assert_allclose(desc.brf[p][0], brf_loop, atol=1e-12)
    np.testing.assert_array_equal(desc.correlation_length[p], (P > 0.5).sum(axis=1))


# ---------------------------------------------------------------- the Descriptors object
def test_describe_matches_single_functions_and_round_trips(four_layer_bars, tmp_path):
    desc = describe(four_layer_bars, dims=(0, 1), alpha=(0.0, 1.0), threshold=0.5, brf_index="death")
    assert isinstance(desc, Descriptors) and desc.dims == (0, 1) and desc.alpha == (0.0, 1.0)
    assert desc.brf_index == "death" and desc.params["model"] == "hand-made"
    np.testing.assert_allclose(desc.curve("brf", 1, alpha=1.0), [0, 1 / 9, 2 / 9, 6 / 9])
    np.testing.assert_allclose(desc.curve("ilp", 1, alpha=1.0), ilp(four_layer_bars, 1, 1.0))
    np.testing.assert_array_equal(desc.histogram[1], birth_death_histogram(four_layer_bars, 1))
    np.testing.assert_allclose(desc.relative_depth, [0, 1 / 3, 2 / 3, 1])
    with pytest.raises(ValueError, match="alpha"):
        desc.curve("ilp", 1, alpha=3.0)
    with pytest.raises(ValueError, match="dims"):
        desc.curve("betti", 2)

    data = json.loads(json.dumps(desc.to_dict()))
    assert data["average_similarity"]["1"] == pytest.approx([13 / 24, 19 / 24, 22 / 24, 18 / 24])
    back = Descriptors.from_dict(data)
    for name in ("similarity", "ilp", "brf", "correlation_length_left"):
        np.testing.assert_allclose(getattr(back, name)[1], getattr(desc, name)[1])
    path = desc.save(tmp_path / "desc.json")
    np.testing.assert_allclose(Descriptors.load(path).average_similarity[1], desc.average_similarity[1])
    with pytest.raises(ValueError):
        desc.betti[1][0] = 5  # read-only


def test_tidy_records(four_layer_bars):
    desc = describe(four_layer_bars, dims=(1,), alpha=(0.0, 1.0))
    rows = desc.to_records()
    # 4 single curves + 2 curves x 2 alphas, 4 layers each
    assert len(rows) == (4 + 2 * 2) * 4
    row = [r for r in rows if r["descriptor"] == "ilp" and r["alpha"] == 1.0 and r["layer"] == 1][0]
    assert row["value"] == pytest.approx(5 / 12) and row["relative_depth"] == pytest.approx(1 / 3)
    json.dumps(rows)


def test_tidy_frame(four_layer_bars):
    pd = pytest.importorskip("pandas")
    desc = describe(four_layer_bars, dims=(1,), alpha=(0.0, 1.0))
    frame = desc.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(desc.to_records())
    assert list(frame.columns) == ["descriptor", "dim", "alpha", "layer", "relative_depth", "value"]


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"dims": (-1,)}, ValueError, "dims"),
        ({"dims": ()}, ValueError, "dims"),
        ({"dims": (1.5,)}, TypeError, "dims"),
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"threshold": 1.5}, ValueError, "threshold"),
        ({"brf_index": "last"}, ValueError, "brf_index"),
        ({"normalization": "columns"}, ValueError, "normalization"),
    ],
)
def test_describe_parameter_errors(four_layer_bars, kwargs, error, words):
    with pytest.raises(error, match=words):
        describe(four_layer_bars, **kwargs)


def test_describe_needs_a_barcode():
    with pytest.raises(TypeError, match="Barcode"):
        describe(np.zeros((3, 3)))


# ---------------------------------------------------------------- the authors' numbers
def test_llama3_average_similarity_peak(llama3_csv):
    bars = Barcode.from_reference_csv(llama3_csv)
    assert bars.n_layers == 33
    r = describe(bars, dims=(1,)).average_similarity[1]
    assert int(r.argmax()) == 23
    assert round(float(r.max()), 3) == 0.282
    # the authors report the peak of S̄_1 at about 0.72-0.78 of relative depth on Llama models and SST
    depth = describe(bars, dims=(1,)).relative_depth[int(r.argmax())]
    assert 0.70 <= depth <= 0.78


def test_llama2_betti_from_layer_bars_matches_steps(llama2_csv):
    bars = Barcode.from_reference_csv(llama2_csv)
    desc = describe(bars, dims=(0, 1, 2))
    for p in (0, 1, 2):
        np.testing.assert_array_equal(desc.betti[p], bars.betti_numbers([p])[0])
        np.testing.assert_array_equal(np.diagonal(desc.similarity[p]), desc.betti[p])


# ---------------------------------------------------------------- uncertainty over subsets
def test_describe_subsets_end_to_end():
    import zigzag.pipeline
    from zigzag.clouds import as_layer_clouds
    from zigzag.datasets import synthetic_trajectory

    clouds = as_layer_clouds(synthetic_trajectory(5, 90, 6, seed=3))
    result = describe_subsets(clouds, subset_size=30, n_subsets=3, seed=7, dims=(0, 1), k=4)
    assert result.subsets.shape == (3, 30)
    flat = result.subsets.ravel()
    assert len(np.unique(flat)) == flat.size  # disjoint
    expected_points = np.sort(np.random.default_rng(7).permutation(90)[:90].reshape(3, 30), axis=1)
    np.testing.assert_array_equal(result.subsets, expected_points)
    again = zigzag.pipeline.compute(clouds.subset(result.subsets[1]), k=4, max_dim=1, progress=False)
    assert result.barcodes[1].same_bars(again)
    stacked = np.stack([m.average_similarity[1] for m in result.members])
    np.testing.assert_allclose(result.mean.average_similarity[1], stacked.mean(axis=0))
    np.testing.assert_allclose(result.std.average_similarity[1], stacked.std(axis=0, ddof=1))
    betti = np.stack([m.betti[0] for m in result.members])
    np.testing.assert_allclose(result.std.betti[0], betti.std(axis=0, ddof=1))
    json.dumps(result.to_dict())


def test_describe_subsets_checks_sizes(monkeypatch):
    calls = []

    def fake_compute(clouds, **kwargs):
        calls.append((clouds.n_points, kwargs))
        return Barcode.from_arrays([1], [0], [3], n_layers=clouds.n_layers)

    monkeypatch.setattr("zigzag.pipeline.compute", fake_compute)
    data = np.random.default_rng(0).normal(size=(2, 10, 3))
    with pytest.raises(ValueError, match="subset_size"):
        describe_subsets(data, subset_size=4, n_subsets=3, seed=0)
    with pytest.raises(ValueError, match="n_subsets"):
        describe_subsets(data, subset_size=4, n_subsets=1, seed=0)
    result = describe_subsets(data, subset_size=5, n_subsets=2, seed=0, dims=(1,), k=3)
    assert [c[0] for c in calls] == [5, 5]
    assert calls[0][1]["k"] == 3 and calls[0][1]["max_dim"] == 1
    np.testing.assert_array_equal(result.std.betti[1], [0, 0])


# ---------------------------------------------------------------- the scikit-learn contract
def test_vectorizer_contract(four_layer_bars, llama3_csv):
    sklearn_base = pytest.importorskip("sklearn.base")
    from sklearn.exceptions import NotFittedError as SkNotFitted

    vec = DescriptorVectorizer(curves=("average_similarity", "betti"), dims=(1,), n_points=5)
    assert vec.get_params() == {
        "alpha": 1.0, "brf_index": "birth", "curves": ("average_similarity", "betti"), "dims": (1,),
        "n_points": 5, "normalization": "column", "threshold": 0.5,
    }
    clone = sklearn_base.clone(vec)
    assert clone is not vec and clone.get_params() == vec.get_params()
    with pytest.raises(SkNotFitted):
        vec.transform([four_layer_bars])
    assert issubclass(NotFittedError, (ValueError, AttributeError))  # the fallback without scikit-learn
    assert vec.set_params(n_points=6) is vec and vec.n_points == 6
    with pytest.raises(ValueError, match="n_poinst"):
        vec.set_params(n_poinst=3)
    with pytest.raises(TypeError):
        DescriptorVectorizer(5)  # keyword-only

    big = Barcode.from_reference_csv(llama3_csv)
    assert vec.fit([four_layer_bars, big]) is vec
    assert not hasattr(clone, "n_features_out_")
    X = vec.transform([four_layer_bars, big])
    assert X.shape == (2, 12) and vec.n_features_out_ == 12
    assert len(vec.get_feature_names_out()) == 12
    # the grid ends are the curves' ends (relative depth 0 and 1), in between linear interpolation
    r = average_similarity(four_layer_bars, 1)
    np.testing.assert_allclose(X[0, [0, 5]], [r[0], r[-1]])
    np.testing.assert_allclose(X[0, 2], np.interp(0.4, [0, 1 / 3, 2 / 3, 1], r))
    np.testing.assert_allclose(X[0, 6:], np.interp(np.linspace(0, 1, 6), [0, 1 / 3, 2 / 3, 1], [1, 3, 3, 2]))
    # the same vector from precomputed descriptors
    np.testing.assert_allclose(vec.transform([describe(four_layer_bars, dims=(1,), alpha=1.0)]), X[:1])


def test_vectorizer_in_a_pipeline(rng):
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    bars = [random_barcode(rng, int(rng.integers(3, 9)), 40) for _ in range(12)]
    y = np.arange(12) % 2
    model = make_pipeline(DescriptorVectorizer(n_points=8), LogisticRegression()).fit(bars, y)
    assert model.predict(bars).shape == (12,)


@pytest.mark.parametrize("params, words", [
    ({"curves": ("silhouette",)}, "curves"), ({"n_points": 1}, "n_points"), ({"alpha": -2.0}, "alpha"),
    ({"dims": ()}, "dims"),
])
def test_vectorizer_rejects_bad_parameters_at_fit(four_layer_bars, params, words):
    vec = DescriptorVectorizer(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=words):
        vec.fit([four_layer_bars])


def test_vectorizer_rejects_bad_input(four_layer_bars):
    vec = DescriptorVectorizer()
    with pytest.raises(TypeError, match=r"\[bars\]"):
        vec.fit(four_layer_bars)
    with pytest.raises(ValueError, match="empty"):
        vec.fit([])
    with pytest.raises(TypeError, match="Entry 1"):
        vec.fit([four_layer_bars, np.zeros(3)])


# scikit-learn's own checks that need no data. Its data-driven checks feed 2-D float arrays, which a
# barcode vectoriser cannot take (its tags say so, and check_estimator then skips them, as for text
# vectorisers); the tests after this one make the same checks with lists of barcodes.
SKLEARN_API_CHECKS = (
    "check_estimator_cloneable", "check_estimator_repr", "check_no_attributes_set_in_init",
    "check_get_params_invariance", "check_set_params", "check_parameters_default_constructible",
    "check_do_not_raise_errors_in_init_or_set_params", "check_estimator_tags_renamed", "check_valid_tag_types",
    "check_mixin_order",
)


@pytest.mark.parametrize("check", SKLEARN_API_CHECKS)
def test_vectorizer_passes_scikit_learn_api_checks(check):
    estimator_checks = pytest.importorskip("sklearn.utils.estimator_checks")
    getattr(estimator_checks, check)("DescriptorVectorizer", DescriptorVectorizer(curves=("betti", "ilp"), n_points=5))


def test_vectorizer_tags_say_it_takes_barcodes_not_arrays():
    pytest.importorskip("sklearn")
    from sklearn.utils import get_tags

    tags = get_tags(DescriptorVectorizer())
    assert not tags.input_tags.two_d_array and tags.requires_fit and not tags.target_tags.required
    assert tags.transformer_tags is not None


def _contract_data(seed=0):
    rng = np.random.default_rng(seed)
    return [random_barcode(rng, int(rng.integers(2, 9)), 30) for _ in range(6)]


def test_vectorizer_fit_and_transform_follow_the_scikit_learn_rules():
    """fit returns self, sets only trailing-underscore attributes, never changes a parameter; fit is idempotent."""
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError as SkNotFitted
    from sklearn.utils.validation import check_is_fitted

    X = _contract_data()
    vec = DescriptorVectorizer(curves=["average_similarity", "brf"], dims=[1, 2], alpha=0.5, n_points=7)
    before = {k: copy.deepcopy(v) for k, v in vec.get_params().items()}
    with pytest.raises(SkNotFitted):
        check_is_fitted(vec)
    assert vec.fit(X) is vec
    check_is_fitted(vec)
    assert vec.get_params() == before and type(vec.curves) is list  # untouched, not even converted
    added = set(vars(vec)) - set(before)
    assert added and all(name.endswith("_") and not name.startswith("_") for name in added), added
    first = vec.transform(X)
    again = vec.fit(X).transform(X)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(vec.fit_transform(X), first)
    np.testing.assert_array_equal(vec.fit_transform(iter(X)), first)  # a generator is read once
    state = dict(vars(vec))
    vec.transform(X[:2])
    assert vars(vec).keys() == state.keys() and all(vars(vec)[k] is state[k] for k in state)  # transform keeps state
    assert first.shape == (6, 2 * 2 * 7) and first.dtype == np.float64
    np.testing.assert_array_equal(vec.transform(X[2:4]), first[2:4])  # rows do not depend on the batch
    fresh = clone(vec)
    assert not hasattr(fresh, "n_features_out_") and fresh.get_params() == vec.get_params()


def test_vectorizer_and_its_inputs_pickle(tmp_path):
    import pickle

    X = _contract_data(1)
    vec = DescriptorVectorizer(n_points=9).fit(X)
    back = pickle.loads(pickle.dumps(vec))
    np.testing.assert_array_equal(back.transform(X), vec.transform(X))
    bars = pickle.loads(pickle.dumps(X))  # barcodes go to other processes (joblib, dask, grid search n_jobs)
    assert all(a.same_bars(b) and dict(a.params) == dict(b.params) for a, b in zip(X, bars))
    desc = describe(X[0], dims=(1,))
    copied = copy.deepcopy(desc)
    np.testing.assert_array_equal(copied.average_similarity[1], desc.average_similarity[1])
    with pytest.raises(ValueError):
        copied.betti[1][0] = 7  # still read-only after the round trip


def test_vectorizer_in_a_grid_search():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(3)
    # two classes that differ in where their long H1 bars are born: early vs late
    bars, y = [], []
    for i in range(16):
        n = 6
        early = i % 2 == 0
        start = rng.integers(0, 3, 8) if early else rng.integers(6, 9, 8)
        bars.append(Barcode.from_arrays([1] * 8, start, np.minimum(start + 3, 2 * n - 1), n_layers=n))
        y.append(int(early))
    search = GridSearchCV(make_pipeline(DescriptorVectorizer(curves=("betti",)), LogisticRegression()),
                          {"descriptorvectorizer__n_points": [4, 8]}, cv=2)  # clone + set_params per fold
    search.fit(bars, y)
    assert search.best_params_["descriptorvectorizer__n_points"] in (4, 8)
    assert search.score(bars, y) == 1.0


def test_describe_default_dims_follow_the_barcode(four_layer_bars, tmp_path):
    assert describe(four_layer_bars).dims == (0, 1)  # no max_dim recorded: the dimensions with bars
    computed = Barcode.from_arrays([0, 1], [0, 0], [7, 3], n_layers=4, params={"max_dim": 2})
    desc = describe(computed)
    assert desc.dims == (0, 1, 2) and not desc.betti[2].any()  # computed up to H2, none found
    path = computed.save(tmp_path / "b.npz")
    assert describe(Barcode.load(path, max_dim=1)).dims == (0, 1)  # a file's max_dim may be lowered ...
    with pytest.raises(ValueError, match="max_dim=2"):
        Barcode.load(path, max_dim=3)  # ... never raised
    assert describe(Barcode.from_arrays([], [], [], n_layers=2)).dims == (0,)
