"""One call from layer clouds to a barcode: kNN → flag complexes → zigzag schedule → dionysus."""

from __future__ import annotations

import logging
import time

from tqdm.auto import tqdm

from ._validation import check_int, check_option
from .barcode import Barcode
from .clouds import as_layer_clouds
from .complexes import knn_complex
from .engines import ENGINES, zigzag_bars
from .filtration import ZIGZAGS, zigzag_schedule
from .knn import GRAPHS, METRICS

__all__ = ["compute", "layer_complexes"]

log = logging.getLogger(__name__)


def layer_complexes(clouds, *, k: int = 5, max_dim: int = 1, metric: str = "euclidean", graph: str = "union",
                    progress: bool = True) -> list:
    """The flag complex of every layer's kNN graph (simplices up to dimension ``max_dim + 1``)."""
    clouds = as_layer_clouds(clouds)
    layers = tqdm(clouds.layers, desc="kNN complexes", unit="layer", disable=not progress, leave=False)
    return [knn_complex(x, k, max_dim=max_dim, metric=metric, graph=graph) for x in layers]


def compute(clouds, *, k: int = 5, max_dim: int = 1, metric: str = "euclidean", graph: str = "union",
            zigzag: str = "intersection", engine: str = "fast", progress: bool = True) -> Barcode:
    """Zigzag barcode of a sequence of point clouds.

    Parameters
    ----------
    clouds : LayerClouds or array-like of shape (n_layers, n_points, n_features)
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
        How consecutive layers are linked (SPEC §3).
    engine : {"fast", "classic"}, default="fast"
        dionysus' fast zigzag (Dey–Hou) or its classic algorithm (~100x slower).
    progress : bool, default=True
        Show a progress bar over layers on stderr.

    Returns
    -------
    Barcode
        Bars of dimensions 0..max_dim, with the parameters in ``params``.

    Raises
    ------
    ValueError
        Invalid clouds (NaN/inf, ragged layers, fewer than 2 layers, not 3-D),
        ``k >= n_points``, an unknown option, or ``max_dim < 0``.

    Examples
    --------
    >>> from zigzag.datasets import synthetic_trajectory
    >>> bars = compute(synthetic_trajectory(4, 60, 3, seed=0), k=4, progress=False)
    >>> bars.n_layers
    4
    """
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
    start = time.perf_counter()
    complexes = layer_complexes(clouds, k=k, max_dim=max_dim, metric=metric, graph=graph, progress=progress)
    schedule = zigzag_schedule(complexes, kind=zigzag)
    log.info("zigzag of %d layers: %d simplices, %d operations (%.2f s)", clouds.n_layers,
             schedule.n_simplices, schedule.n_operations, time.perf_counter() - start)
    bars = zigzag_bars(schedule, max_dim=max_dim, engine=engine)
    from . import __version__

    params = {
        "k": k, "max_dim": max_dim, "metric": metric, "graph": graph, "zigzag": zigzag, "engine": engine,
        "n_points": clouds.n_points, "n_layers": clouds.n_layers, "layer_names": list(clouds.names),
        "clouds": dict(clouds.meta), "zigzag_version": __version__,
    }
    return Barcode.from_arrays(**bars, n_layers=clouds.n_layers, params=params)
