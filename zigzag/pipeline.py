"""One call from layer clouds to a barcode: kNN → flag complexes → zigzag schedule → engine."""

from __future__ import annotations

import logging
import time

import numpy as np
from ._progress import progress_bar

from dataclasses import dataclass

from ._validation import check_dims, check_int, check_option
from ._version import __version__
from .barcode import Barcode
from .clouds import as_layer_clouds
from .complexes import flag_complex
from .descriptors import Descriptors, describe
from .descriptors import CURVES, MATRICES
from .engines import ENGINES, zigzag_bars
from .filtration import ZIGZAGS, zigzag_schedule
from .knn import GRAPHS, METRICS, check_device, graph_from_neighbours, knn_indices

__all__ = ["compute", "describe_subsets", "layer_complexes", "warm_up", "SubsetDescriptors"]

log = logging.getLogger(__name__)


def layer_complexes(clouds, *, k: int = 5, max_dim: int = 1, metric: str = "euclidean", graph: str = "union",
                    progress: bool = True, device=None) -> list:
    """The flag complex of every layer's kNN graph (simplices up to dimension ``max_dim + 1``).

    ``device`` is passed to :func:`zigzag.knn.knn_indices` (torch products on that device).
    """
    complexes, _ = _timed_complexes(as_layer_clouds(clouds), k=k, max_dim=max_dim, metric=metric, graph=graph,
                                    progress=progress, device=device)
    return complexes


def _timed_complexes(clouds, *, k, max_dim, metric, graph, progress, device):
    """Complexes of every layer, and the seconds spent in kNN and in clique enumeration."""
    knn_s = cliques_s = 0.0
    complexes = []
    for x in progress_bar(clouds.layers, desc="kNN complexes", unit="layer", disable=not progress, leave=False):
        start = time.perf_counter()
        edges = graph_from_neighbours(knn_indices(x, k, metric=metric, device=device), graph=graph)
        middle = time.perf_counter()
        complexes.append(flag_complex(edges, x.shape[0], max_dim + 1))
        knn_s += middle - start
        cliques_s += time.perf_counter() - middle
    return complexes, {"knn": knn_s, "complexes": cliques_s}


def _clouds_device(clouds):
    """The torch device of clouds given as a tensor (or a list of tensors), else None."""
    first = clouds[0] if isinstance(clouds, (list, tuple)) and len(clouds) else clouds
    if hasattr(first, "detach") and hasattr(first, "device"):
        return str(first.device)
    return None


def compute(clouds, *, k: int = 5, max_dim: int = 1, metric: str = "euclidean", graph: str = "union",
            zigzag: str = "intersection", engine: str = "fast", progress: bool = True, device=None) -> Barcode:
    """Zigzag barcode of a sequence of point clouds.

    Parameters
    ----------
    clouds : LayerClouds, array-like or torch tensor of shape (n_layers, n_points, n_features)
        One cloud per representation; point i is the same input in every layer.
    k : int, default=5
        Neighbours per point (self excluded); needs ``k < n_points``.
    max_dim : int, default=1
        Highest homology dimension; complexes are built up to simplex
        dimension ``max_dim + 1`` so that H_0..H_max_dim are exact.
    metric : {"euclidean", "cosine"}, default="euclidean"
    graph : {"union", "mutual"}, default="union"
        ``{u, v}`` is an edge when v is a kNN of u or (union) / and (mutual) vice versa.
    zigzag : {"intersection", "union"}, default="intersection"
        How consecutive layers are linked (docs/concepts.md).
    engine : {"fast", "dionysus", "classic"}, default="fast"
        ``fast``: the FastZigzag cone reduced by a compiled twist reduction;
        ``dionysus``: dionysus' fast zigzag (the reference, about 5x slower);
        ``classic``: dionysus' original zigzag algorithm (the oracle, ~200x slower).
        All three give the same bars.
    progress : bool, default=True
        Show progress bars (layers, reduction) on stderr.
    device : str or torch.device, optional
        Compute the kNN products with torch on this device (``"cpu"``,
        ``"cuda"``, ...). Default: the clouds' device when they are torch
        tensors, else numpy. The graphs are the same on every device.

    Returns
    -------
    Barcode
        Bars of dimensions 0..max_dim, with the parameters in ``params`` and the
        seconds spent in each stage in ``params["timings"]`` (``knn``,
        ``complexes`` (cliques and zigzag schedule), ``engine``, ``total``).

    Raises
    ------
    ValueError
        Invalid clouds (NaN/inf, ragged layers, fewer than 2 layers, not 3-D),
        ``k >= n_points``, an unknown option, ``max_dim < 0`` or a device torch
        cannot use.

    Examples
    --------
    >>> from zigzag.datasets import synthetic_trajectory
    >>> bars = compute(synthetic_trajectory(4, 60, 3, seed=0), k=4, progress=False)
    >>> bars.n_layers
    4
    """
    start = time.perf_counter()
    if device is None:
        device = _clouds_device(clouds)
    clouds = as_layer_clouds(clouds)
    k = check_int(k, "k", minimum=1, caller="compute")
    max_dim = check_int(max_dim, "max_dim", minimum=0, caller="compute")
    check_option(metric, "metric", METRICS, caller="compute")
    check_option(graph, "graph", GRAPHS, caller="compute")
    check_option(zigzag, "zigzag", ZIGZAGS, caller="compute")
    check_option(engine, "engine", ENGINES, caller="compute")
    if k >= clouds.n_points:
        raise ValueError(
            f"The 'k' parameter of compute must be smaller than the number of points ({clouds.n_points}); "
            f"got k={k}. Lower k or add inputs."
        )
    if k > clouds.n_points // 2:
        log.warning("k=%d is close to the number of points %d: the kNN graphs will be nearly complete.",
                    k, clouds.n_points)
    if device is not None:
        device = check_device(None, device)
    complexes, timings = _timed_complexes(clouds, k=k, max_dim=max_dim, metric=metric, graph=graph,
                                          progress=progress, device=device)
    middle = time.perf_counter()
    schedule = zigzag_schedule(complexes, kind=zigzag)
    timings["complexes"] += time.perf_counter() - middle
    log.info("zigzag of %d layers: %d simplices, %d operations", clouds.n_layers, schedule.n_simplices,
             schedule.n_operations)
    middle = time.perf_counter()
    bars = zigzag_bars(schedule, max_dim=max_dim, engine=engine, progress=progress)
    timings["engine"] = time.perf_counter() - middle
    timings["total"] = time.perf_counter() - start
    log.info("stage timings (s): %s", ", ".join(f"{key} {value:.2f}" for key, value in timings.items()))
    params = {
        "k": k, "max_dim": max_dim, "metric": metric, "graph": graph, "zigzag": zigzag, "engine": engine,
        "device": device, "n_points": clouds.n_points, "n_layers": clouds.n_layers,
        "layer_names": list(clouds.names), "clouds": dict(clouds.meta), "zigzag_version": __version__,
        "timings": {key: round(value, 4) for key, value in timings.items()},
    }
    return Barcode.from_arrays(**bars, n_layers=clouds.n_layers, params=params)


def warm_up() -> None:
    """Compile (or load from numba's on-disk cache) the kNN and reduction kernels on a tiny input.

    The first barcode in a fresh environment pays the compilation (a few
    seconds); call this once at set-up to pay it there instead.
    """
    from .datasets import synthetic_trajectory

    compute(synthetic_trajectory(3, 20, 3, seed=0), k=3, max_dim=1, progress=False)


# ---------------------------------------------------------------- uncertainty over subsets of the prompts
@dataclass(frozen=True, eq=False)
class SubsetDescriptors:
    """Descriptors over disjoint random subsets of the prompts, and their mean and spread.

    Attributes
    ----------
    mean, std : Descriptors
        Element-wise mean and sample standard deviation (``ddof=1``) of every
        field over the subsets (floats).
    members : tuple of Descriptors
        One per subset.
    subsets : ndarray of int of shape (n_subsets, subset_size)
        The point (prompt) indices of each subset, each row ascending.
    barcodes : tuple of Barcode
        One per subset.
    """

    mean: Descriptors
    std: Descriptors
    members: tuple
    subsets: np.ndarray
    barcodes: tuple

    @property
    def n_subsets(self) -> int:
        return len(self.members)

    def to_dict(self) -> dict:
        """JSON-ready dict with ``mean``, ``std`` (descriptor dicts) and ``subsets``."""
        return {"mean": self.mean.to_dict(), "std": self.std.to_dict(), "subsets": self.subsets.tolist()}

    @classmethod
    def from_members(cls, members, subsets=None, barcodes=()) -> "SubsetDescriptors":
        """Mean and sample std (``ddof=1``) of descriptors computed elsewhere (e.g. by a sweep), one per subset.

        Parameters
        ----------
        members : sequence of Descriptors
            At least 2, over the same layers, dims and parameters.
        subsets : array-like of int of shape (n_subsets, subset_size), optional
        barcodes : sequence of Barcode, optional
        """
        members = tuple(members)
        if len(members) < 2 or not all(isinstance(m, Descriptors) for m in members):
            raise ValueError("SubsetDescriptors.from_members needs at least 2 Descriptors, one per subset.")
        subsets = np.zeros((len(members), 0), dtype=np.int64) if subsets is None else np.asarray(subsets)
        return cls(mean=_reduce(members, lambda a: a.mean(axis=0)), std=_reduce(members, lambda a: a.std(axis=0, ddof=1)),
                   members=members, subsets=subsets, barcodes=tuple(barcodes))


def _reduce(members, reducer) -> Descriptors:
    first = members[0]
    fields = {
        name: {p: reducer(np.stack([np.asarray(getattr(m, name)[p], dtype=float) for m in members]))
               for p in first.dims}
        for name in CURVES + MATRICES
    }
    return Descriptors(
        n_layers=first.n_layers, dims=first.dims, alpha=first.alpha, threshold=first.threshold,
        brf_index=first.brf_index, normalization=first.normalization, params=dict(first.params), **fields,
    )


def describe_subsets(clouds, subset_size: int, n_subsets: int, seed=None, *, dims=(0, 1), alpha=(0.0, 1.0),
                     threshold: float = 0.5, brf_index: str = "birth", normalization: str = "column",
                     progress: bool = False, **compute_kwargs) -> SubsetDescriptors:
    """Descriptors on disjoint random subsets of the prompts: mean ± std of every curve.

    The papers report e.g. 16 subsets of 500 prompts. Subsets are drawn
    without overlap from one permutation of the points made with
    ``np.random.default_rng(seed)``; each gets its own barcode from
    :func:`compute`.

    Parameters
    ----------
    clouds : LayerClouds or array-like of shape (n_layers, n_points, n_features)
    subset_size : int
        Points per subset.
    n_subsets : int >= 2
        ``n_subsets * subset_size`` must not exceed ``n_points``.
    seed : int, numpy.random.Generator or None
    dims, alpha, threshold, brf_index, normalization
        As in :func:`describe`.
    progress : bool, default=False
        Passed to compute (progress bars per subset).
    **compute_kwargs
        Passed to :func:`compute` (``k``, ``max_dim``,
        ``metric``, ...). ``max_dim`` defaults to ``max(dims)``.

    Returns
    -------
    SubsetDescriptors

    Raises
    ------
    ValueError
        If the subsets do not fit into the points.
    """
    clouds = as_layer_clouds(clouds)
    subset_size = check_int(subset_size, "subset_size", minimum=1, caller="describe_subsets")
    n_subsets = check_int(n_subsets, "n_subsets", minimum=2, caller="describe_subsets")
    if subset_size * n_subsets > clouds.n_points:
        raise ValueError(
            f"describe_subsets: {n_subsets} disjoint subsets of {subset_size} points need "
            f"{n_subsets * subset_size} points, but the clouds have {clouds.n_points}. "
            f"Lower n_subsets or subset_size (e.g. subset_size={clouds.n_points // n_subsets})."
        )
    dims = check_dims(dims, "describe_subsets")
    compute_kwargs.setdefault("max_dim", max(dims))
    rng = np.random.default_rng(seed)
    order = rng.permutation(clouds.n_points)[: n_subsets * subset_size]
    subsets = np.sort(order.reshape(n_subsets, subset_size), axis=1)
    barcodes, members = [], []
    for points in subsets:
        bars = compute(clouds.subset(points), progress=progress, **compute_kwargs)
        barcodes.append(bars)
        members.append(describe(bars, dims=dims, alpha=alpha, threshold=threshold, brf_index=brf_index,
                                normalization=normalization))
    return SubsetDescriptors(
        mean=_reduce(members, lambda a: a.mean(axis=0)),
        std=_reduce(members, lambda a: a.std(axis=0, ddof=1)),
        members=tuple(members), subsets=subsets, barcodes=tuple(barcodes),
    )
