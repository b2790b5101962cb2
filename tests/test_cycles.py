"""Representative cycles against independent oracles.

* every step's complex is rebuilt here by brute force (all distances, sorted
  by (distance, index); cliques by enumeration; intersections and unions as
  sets of simplices), and cycles are checked in it with mod-2 linear algebra;
* the strongest check: the representatives of all bars, read at every step,
  form an interval decomposition of the zigzag (at each step a basis of
  homology; through each inclusion a bar's cycle goes to its next cycle, or
  to 0 where the bar ends);
* gudhi's Betti numbers count the cycles alive at a layer;
* a planted loop (a circle among noise redrawn at every layer) is found;
* the bars are those of ``zigzag.compute``.
"""

import itertools
import json
import pickle

import gudhi
import numpy as np
import pytest
from scipy.spatial.distance import cdist

import zigzag
from zigzag import Barcode, Cycle, compute, cycles
from zigzag.cli import main
from zigzag.engines import zigzag_bars
from zigzag.filtration import zigzag_schedule
from zigzag.pipeline import layer_complexes
from zigzag.representatives import bar_representatives


# ---------------------------------------------------------------- brute-force complexes and mod-2 algebra
def brute_edges(x, k):
    d = cdist(x, x, "sqeuclidean")
    np.fill_diagonal(d, np.inf)
    idx = np.arange(len(x))
    edges = set()
    for u, row in enumerate(d):
        for v in np.lexsort((idx, row))[:k].tolist():
            edges.add((min(u, v), max(u, v)))
    return edges


def flag(edges, n_points, top):
    """All simplices (sorted tuples) of the flag complex, up to dimension ``top``."""
    adjacent = {v: set() for v in range(n_points)}
    for u, v in edges:
        adjacent[u].add(v)
        adjacent[v].add(u)
    simplices = {(v,) for v in range(n_points)}
    level = {(v,) for v in range(n_points)}
    for _ in range(top):
        level = {s + (w,) for s in level for w in adjacent[s[-1]] if w > s[-1] and all(w in adjacent[u] for u in s)}
        simplices |= level
    return simplices


def step_complexes(clouds, k, top, kind):
    layers = [flag(brute_edges(x, k), x.shape[0], top) for x in clouds]
    steps = []
    for ell, layer in enumerate(layers):
        steps.append(layer)
        if ell + 1 < len(layers):
            steps.append(layer & layers[ell + 1] if kind == "intersection" else layer | layers[ell + 1])
    return steps


def faces(simplex):
    return [simplex[:i] + simplex[i + 1:] for i in range(len(simplex))]


class Homology:
    """H_p of one complex over GF(2): membership of chains in the span of the boundaries plus given cycles."""

    def __init__(self, complex_, p):
        self.p = p
        self.cells = {s for s in complex_ if len(s) == p + 1}
        self.index = {s: i for i, s in enumerate(sorted(self.cells))}
        self.basis = {}
        for simplex in (s for s in complex_ if len(s) == p + 2):
            self.add(faces(simplex))

    def vector(self, chain):
        out = 0
        for s in chain:
            out ^= 1 << self.index[s]
        return out

    def reduce(self, vector):
        while vector:
            lead = vector.bit_length() - 1
            if lead not in self.basis:
                return vector
            vector ^= self.basis[lead]
        return 0

    def add(self, chain):
        """Add a chain to the span; False when it was already in it."""
        vector = self.reduce(self.vector(chain))
        if vector:
            self.basis[vector.bit_length() - 1] = vector
        return bool(vector)


def is_cycle(chain, p):
    if p == 0:
        return True
    count = {}
    for s in chain:
        for f in faces(s):
            count[f] = count.get(f, 0) ^ 1
    return not any(count.values())


def check_interval_decomposition(steps, p, bars, reps):
    """``reps[bar][t]``: set of p-simplices. Returns the failures (empty when the cycles decompose the zigzag)."""
    failures = []
    alive = lambda t: [i for i, (b, d) in enumerate(bars) if b <= t < d]  # noqa: E731
    for t, complex_ in enumerate(steps):
        homology = Homology(complex_, p)
        for i in alive(t):
            z = reps[i][t]
            if not z <= homology.cells or not is_cycle(z, p):
                failures.append(("not a cycle of the step", i, t))
            elif not homology.add(z):
                failures.append(("dependent", i, t))
        if t + 1 == len(steps):
            break
        small, big = (t, t + 1) if steps[t] <= steps[t + 1] else (t + 1, t)
        assert steps[big] >= steps[small]
        homology = Homology(steps[big], p)
        for i in alive(small):
            target = reps[i][big] if bars[i][0] <= big < bars[i][1] else set()
            if homology.reduce(homology.vector(reps[i][small] ^ target)):
                failures.append(("not carried by the inclusion", i, small, big))
    return failures


def drifting(seed, n_points=24, n_layers=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_layers, n_points, 2)).cumsum(axis=0) * 0.5 + rng.normal(size=(1, n_points, 2)) * 2


# ---------------------------------------------------------------- the decomposition, every bar at every step
@pytest.mark.parametrize("kind", ["intersection", "union"])
@pytest.mark.parametrize("direction", ["forward", "backward", "auto"])
@pytest.mark.parametrize("p", [0, 1])
def test_representatives_decompose_the_zigzag(kind, direction, p):
    types = set()
    for seed in range(4):
        x = drifting(seed, n_layers=7 if seed % 2 else 5)
        schedule = zigzag_schedule(layer_complexes(x, k=3, max_dim=1, progress=False), kind=kind)
        bars = zigzag_bars(schedule, max_dim=1)
        rows = np.flatnonzero(bars["dimension"] == p)
        lives = [(int(bars["birth_step"][r]), int(bars["death_step"][r])) for r in rows]
        read = bar_representatives(schedule, bars["dimension"][rows], bars["birth_step"][rows],
                                   bars["death_step"][rows], [range(b, d) for b, d in lives], direction=direction)
        reps = [{t: {tuple(s) for s in chain.tolist()} for t, chain in zip(range(b, d), per_step)}
                for (b, d), per_step in zip(lives, read)]
        steps = step_complexes(x, 3, 2, kind)
        assert check_interval_decomposition(steps, p, lives, reps) == [], seed
        types |= set(bars["interval_type"][rows].tolist())
    assert len(types) >= (3 if p else 2)  # several kinds of ends were exercised


def test_the_decomposition_check_catches_a_wrong_cycle():
    x = drifting(0, n_layers=7)
    schedule = zigzag_schedule(layer_complexes(x, k=3, max_dim=1, progress=False))
    bars = zigzag_bars(schedule, max_dim=1)
    rows = np.flatnonzero(bars["dimension"] == 1)
    lives = [(int(bars["birth_step"][r]), int(bars["death_step"][r])) for r in rows]
    read = bar_representatives(schedule, bars["dimension"][rows], bars["birth_step"][rows], bars["death_step"][rows],
                               [range(b, d) for b, d in lives])
    reps = [{t: {tuple(s) for s in chain.tolist()} for t, chain in zip(range(b, d), per_step)}
            for (b, d), per_step in zip(lives, read)]
    steps = step_complexes(x, 3, 2, "intersection")
    a, b = next((a, b) for a, b in itertools.permutations(range(len(lives)), 2)
                if lives[a] != lives[b] and set(reps[a]) & set(reps[b]))
    t = min(set(reps[a]) & set(reps[b]))
    reps[a][t] = reps[b][t]  # another bar's cycle
    assert check_interval_decomposition(steps, 1, lives, reps)


def test_h2_of_an_octahedron():
    rng = np.random.default_rng(3)
    octahedron = np.vstack([np.eye(3), -np.eye(3)])
    x = octahedron[None] + rng.normal(scale=0.01, size=(3, 6, 3))  # k=4: all but the antipode
    [cycle] = cycles(x, k=4, dim=2, top=1, progress=False)
    assert (cycle.birth_layer, cycle.death_layer) == (0, 3)
    assert len(cycle.simplices) == 8 and is_cycle({tuple(s) for s in cycle.simplices.tolist()}, 2)
    assert cycle.vertices.tolist() == list(range(6)) and len(cycle.edges) == 12


# ---------------------------------------------------------------- the public API at layers
@pytest.fixture(scope="module")
def trajectory():
    return zigzag.synthetic_trajectory(6, 150, 4, n_loops=3, noise=0.1, seed=2)


def test_cycles_at_a_layer_are_a_basis_of_its_h1(trajectory):
    for layer in (1, 4):
        found = cycles(trajectory, k=4, top=None, layer=layer, progress=False)
        edges = brute_edges(trajectory[layer], 4)
        homology = Homology(flag(edges, trajectory.shape[1], 2), 1)
        st = gudhi.SimplexTree()
        for u, v in edges:
            st.insert([u, v])
        st.expansion(2)
        st.compute_persistence(persistence_dim_max=True)
        assert len(found) == st.betti_numbers()[1] > 0
        for cycle in found:
            chain = {tuple(e) for e in cycle.edges.tolist()}
            assert chain <= edges and is_cycle(chain, 1)
            assert homology.add(chain)  # not a boundary, nor a sum of the other cycles
            assert cycle.layer == layer and cycle.birth_layer <= layer < cycle.death_layer
            assert cycle.vertices.tolist() == sorted({v for e in chain for v in e})


@pytest.mark.parametrize("layer", ["birth", "middle"])
def test_each_cycle_lies_in_its_layer_and_is_not_filled(trajectory, layer):
    bars = compute(trajectory, k=4, progress=False)
    found = cycles(trajectory, k=4, top=8, layer=layer, progress=False)
    lengths = [c.persistence for c in found]
    assert len(found) == 8 and lengths == sorted(lengths, reverse=True)
    longest = int((bars.select(1, layer_level=True).death_layer - bars.select(1, layer_level=True).birth_layer).max())
    assert lengths[0] == longest
    for cycle in found:
        assert bars.dimension[cycle.bar_index] == 1
        assert (bars.birth_step[cycle.bar_index], bars.death_step[cycle.bar_index]) == (cycle.birth_step,
                                                                                       cycle.death_step)
        if layer == "birth":
            assert cycle.layer == cycle.birth_layer
        else:
            assert cycle.layer == (cycle.birth_layer + cycle.death_layer - 1) // 2
        edges = brute_edges(trajectory[cycle.layer], 4)
        chain = {tuple(e) for e in cycle.edges.tolist()}
        assert chain <= edges and is_cycle(chain, 1)
        assert Homology(flag(edges, trajectory.shape[1], 2), 1).add(chain)


def test_a_given_barcode_gives_the_same_cycles_and_runs_are_deterministic(trajectory):
    bars = compute(trajectory, k=4, progress=False)
    a = cycles(trajectory, k=4, top=6, progress=False)
    b = cycles(trajectory, bars, k=4, top=6, progress=False)
    c = cycles(trajectory.copy(), k=4, top=6, progress=False)
    for x, y, z in zip(a, b, c):
        assert x.bar_index == y.bar_index == z.bar_index
        assert np.array_equal(x.edges, y.edges) and np.array_equal(x.edges, z.edges)
    assert a[0].params["k"] == 4 and a[0].params["zigzag"] == "intersection"


def test_h0_cycles_are_whole_components(trajectory):
    found = cycles(trajectory, k=4, dim=0, top=5, layer="middle", progress=False)
    assert len(found) == 5 and all(c.dimension == 0 for c in found)
    for cycle in found:
        edges = brute_edges(trajectory[cycle.layer], 4)
        members = set(cycle.vertices.tolist())
        assert {tuple(e) for e in cycle.edges.tolist()} == {e for e in edges if e[0] in members}
        assert all((u in members) == (v in members) for u, v in edges)  # closed under the layer's edges
        assert set(cycle.simplices.ravel().tolist()) <= members


# ---------------------------------------------------------------- a planted loop
def planted_loop(seed, n_layers=6, n_circle=30, n_noise=200, radius=3.0, clearance=0.8):
    """A circle of 30 points turning slowly, among 200 points redrawn in a ball at every layer (none near it)."""
    rng = np.random.default_rng(seed)
    frame, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    angles = 2 * np.pi * np.arange(n_circle) / n_circle
    layers = []
    for ell in range(n_layers):
        u, v = frame[0], np.cos(0.3 * ell) * frame[1] + np.sin(0.3 * ell) * frame[2]
        circle = np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * v + rng.normal(scale=0.01, size=(n_circle, 3))
        noise = rng.uniform(-radius, radius, size=(20 * n_noise, 3))
        in_plane = np.hypot(noise @ u, noise @ v)
        off_plane = np.sqrt(np.maximum((noise**2).sum(axis=1) - in_plane**2, 0))
        keep = (np.linalg.norm(noise, axis=1) <= radius) & (np.hypot(in_plane - 1, off_plane) >= clearance)
        layers.append(np.vstack([circle, noise[keep][:n_noise]]))
    return np.stack(layers)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("layer", ["birth", "middle", 5])
def test_a_planted_loop_is_the_cycle_of_the_one_bar_that_spans_all_layers(seed, layer):
    x = planted_loop(seed)
    bars = compute(x, k=4, progress=False).select(1)
    spanning = np.flatnonzero((bars.birth_layer == 0) & (bars.death_layer == x.shape[0]))
    assert len(spanning) == 1
    [cycle] = cycles(x, k=4, top=1, layer=layer, progress=False)
    assert (cycle.birth_layer, cycle.death_layer) == (0, x.shape[0])
    on_circle = cycle.vertices.tolist()
    assert max(on_circle) < 30  # circle points only
    gaps = np.diff(on_circle + [on_circle[0] + 30])
    assert gaps.max() <= 2  # each edge joins circle neighbours (k = 4), so the loop goes all the way round


# ---------------------------------------------------------------- errors, texts, command line, figures
def test_bad_input_is_refused_with_a_clear_message(trajectory):
    with pytest.raises(ValueError, match="layer index in 0..5"):
        cycles(trajectory, k=4, layer=6, progress=False)
    with pytest.raises(ValueError, match="'layer' parameter of cycles must be one of"):
        cycles(trajectory, k=4, layer="end", progress=False)
    bars = compute(trajectory, k=4, progress=False)
    with pytest.raises(ValueError, match="computed with k=4 but cycles got k=5; pass k=4"):
        cycles(trajectory, bars, k=5, progress=False)
    other = compute(zigzag.synthetic_trajectory(6, 150, 4, n_loops=3, noise=0.1, seed=5), k=4, progress=False)
    with pytest.raises(ValueError, match="must come from these clouds"):
        cycles(trajectory, other, k=4, top=None, progress=False)
    with pytest.raises(ValueError, match="covers 3 layers but the clouds have 6"):
        cycles(trajectory, Barcode.from_arrays([1], [0], [3], n_layers=3), k=4, progress=False)
    with pytest.raises(ValueError, match="one text per point"):
        cycles(trajectory, k=4, top=1, progress=False)[0].texts(["a", "b"])


def test_texts_and_dict(trajectory):
    [cycle] = cycles(trajectory, k=4, top=1, progress=False)
    texts = [f"prompt {i}" for i in range(150)]
    assert cycle.texts(texts) == [f"prompt {i}" for i in cycle.vertices.tolist()]
    record = json.loads(json.dumps(cycle.to_dict(texts)))
    assert record["edges"] == cycle.edges.tolist() and record["layer"] == cycle.layer
    assert record["texts"] == cycle.texts(texts) and "Cycle(H1 bar" in repr(cycle)
    with pytest.raises(ValueError):
        cycle.edges[0, 0] = 0  # frozen
    again = pickle.loads(pickle.dumps(cycle))
    assert np.array_equal(again.edges, cycle.edges) and again.params == cycle.params and again.layer == cycle.layer


def test_command_line_json_and_table(tmp_path, capsys, trajectory):
    np.save(tmp_path / "clouds.npy", trajectory)
    (tmp_path / "texts.txt").write_text("\n".join(f"text number {i} " + "word " * 20 for i in range(150)))
    args = ["cycles", str(tmp_path / "clouds.npy"), "--k", "4", "--top", "3", "-q"]
    assert main(args + ["--json", "--texts", str(tmp_path / "texts.txt"), "-o", str(tmp_path / "c.json")]) == 0
    records = json.loads(capsys.readouterr().out)
    expected = cycles(trajectory, k=4, top=3, progress=False)
    assert [r["edges"] for r in records] == [c.edges.tolist() for c in expected]
    assert [r["death_layer"] - r["birth_layer"] for r in records] == [c.persistence for c in expected]
    assert records[0]["texts"][0].startswith(f"text number {expected[0].vertices[0]} ")
    saved = json.loads((tmp_path / "c.json").read_text())
    assert saved["cycles"] == records and saved["params"]["k"] == 4
    assert main(args + ["--texts", str(tmp_path / "texts.txt"), "--layer", "middle"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("#1  H1 bar") and "text number" in table and "…" in table
    (tmp_path / "short.txt").write_text("only\ntwo\n")
    assert main(args + ["--texts", str(tmp_path / "short.txt")]) == 2
    assert "2 texts but the clouds have 150 points" in capsys.readouterr().err
    assert main(args + ["--layer", "last"]) == 2
    assert "--layer must be" in capsys.readouterr().err


def test_plot_cycle_draws_the_loop_and_returns_its_axes(trajectory):
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    [cycle] = cycles(trajectory, k=4, top=1, progress=False)
    texts = [f"prompt {i}" for i in range(150)]
    fig, ax = plt.subplots()
    assert zigzag.plot_cycle(trajectory, cycle, ax=ax, texts=texts) is ax
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines[-1].get_segments()) == len(cycle.edges)
    cycle_points = ax.collections[-1].get_offsets()
    assert len(cycle_points) == len(cycle.vertices)
    assert sorted(t.get_text() for t in ax.texts) == sorted(cycle.texts(texts))
    assert str(cycle.layer) in ax.get_xlabel()
    plt.close(fig)
    with pytest.raises(TypeError, match="zigzag.Cycle"):
        zigzag.plot_cycle(trajectory, "loop")


def test_report_section_lists_the_longest_loops_and_saves_a_figure(tmp_path, trajectory):
    from zigzag.plotting import persistent_loops_section

    bars = compute(trajectory, k=4, progress=False)
    texts = [f"prompt {i}" for i in range(150)]
    lines = persistent_loops_section(zigzag.as_layer_clouds(trajectory), bars, texts, tmp_path)
    assert lines[0] == "## Persistent loops" and (tmp_path / "loops.png").stat().st_size > 0
    items = [line for line in lines if line[:2] in {f"{i}." for i in range(1, 6)}]
    expected = cycles(trajectory, bars, k=4, top=5, progress=False)
    assert len(items) == 5 and f"`prompt {expected[0].vertices[0]}`" in items[0]
    assert isinstance(expected[0], Cycle)
