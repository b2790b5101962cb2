"""What a sweep writes at the end: summary.csv, the distance matrices, the S̄ figure and summary.md."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._files import save_figure, write_text

__all__ = ["summary_rows", "distance_frames", "write_outputs"]

FIGURE = "profiles.png"


def _blocks_text(blocks) -> str:
    return " ".join(str(b) for b in blocks)


def _ranges_text(plan) -> str:
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in plan.ranges()) or "none"


def summary_rows(cells, store, tally, settings: dict) -> tuple:
    """One row per cell (pandas-ready dicts) and the cells' records (``None`` where the cell failed)."""
    rows, records = [], []
    for cell in cells:
        ext = cell.extraction
        row = {"run": cell.run, "model": ext.model, "texts": ext.texts.label, "k": cell.k, "subset": cell.subset,
               "n_subsets": cell.n_subsets}
        path = store.cell(cell.key)
        record = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        records.append(record)
        if record is None:
            error = (tally.errors.get(f"zigzag-describe-{cell.key}") or tally.errors.get(f"zigzag-compute-{cell.barcode_key}")
                     or tally.errors.get(f"zigzag-extract-{ext.key}") or "not computed")
            row.update(n_texts=np.nan, n_layers=np.nan, n_bars=np.nan, n_bars_h1=np.nan, peak_layer=np.nan,
                       peak_depth=np.nan, peak_value=np.nan)
            for q in settings["q"]:
                row[f"blocks_q{q:g}"], row[f"n_removed_q{q:g}"] = "", np.nan
        else:
            error = ""
            row.update(n_texts=record["n_texts"], n_layers=record["n_layers"], n_bars=record["n_bars"],
                       n_bars_h1=record["bars_per_dim"].get("1", 0), peak_layer=record["peak_layer"],
                       peak_depth=record["peak_depth"], peak_value=record["peak_value"])
            for plan in record["plans"]:
                row[f"blocks_q{plan['q']:g}"] = _blocks_text(plan["blocks"])
                row[f"n_removed_q{plan['q']:g}"] = plan["n_removed"]
        row.update(max_dim=settings["max_dim"], zigzag=settings["zigzag"], seed=settings["seed"],
                   hook=settings["hook"], pooling=settings["pooling"] or "auto",
                   barcode=f"barcodes/{cell.barcode_key}.npz", cell=f"cells/{cell.key}.json", error=error)
        rows.append(row)
    return rows, records


def distance_frames(cells, rows, store, metrics) -> dict:
    """The symmetric distance matrix of every metric, as DataFrames labelled by run (NaN where a row failed)."""
    import pandas as pd

    labels = [cell.run for cell in cells]
    position = {cell.barcode_key: i for i, cell in enumerate(cells)}
    frames = {}
    for metric in metrics:
        matrix = np.full((len(cells), len(cells)), np.nan)
        np.fill_diagonal(matrix, 0.0)
        for row in rows:
            path = store.distances(row["key"])
            if not path.is_file():
                continue
            record = json.loads(path.read_text(encoding="utf-8"))
            i = position[record["row"]]
            for other, value in zip(record["others"], record["values"][metric]):
                j = position[other]
                matrix[i, j] = matrix[j, i] = value
        frames[metric] = pd.DataFrame(matrix, index=pd.Index(labels, name="run"), columns=labels)
    return frames


def _groups(cells, records) -> dict:
    """Cells of the same (model, texts, k), in grid order: label -> list of (cell, record)."""
    groups = {}
    for cell, record in zip(cells, records):
        label = f"{Path(cell.extraction.model).name} · {Path(cell.extraction.texts.label).name} · k={cell.k}"
        groups.setdefault(label, []).append((cell, record))
    return groups


def _profile_figure(groups, path) -> bool:
    """S̄_1 over relative depth, one line per (model, texts, k), a mean ± std band across subsets."""
    from matplotlib.figure import Figure

    from ..descriptors import Descriptors
    from ..pipeline import SubsetDescriptors
    from ..plotting import plot_curves

    curves = {}
    for label, members in groups.items():
        descs = [Descriptors.from_dict(r["descriptors"]) for _, r in members if r is not None]
        if descs:
            curves[label] = SubsetDescriptors.from_members(descs) if len(descs) > 1 else descs[0]
    if not curves:
        return False
    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.subplots()
    plot_curves(curves, curve="average_similarity", dim=1, ax=ax)
    ax.set_title(r"$\bar S_1$ over relative depth (mean ± std across subsets)")
    save_figure(fig, path, dpi=120)
    return True


def write_outputs(out, cells, store, tally, settings: dict, frame, distances: dict, records) -> None:
    """summary.csv, distances_<metric>.csv, profiles.png and summary.md in ``out``."""
    write_text(out / "summary.csv", frame.to_csv(index=False))
    for metric, matrix in distances.items():
        write_text(out / f"distances_{metric}.csv", matrix.to_csv())
    groups = _groups(cells, records)
    has_figure = _profile_figure(groups, out / FIGURE)
    write_text(out / "summary.md", _markdown(groups, tally, settings, distances, has_figure))


def _markdown(groups, tally, settings: dict, distances: dict, has_figure: bool) -> str:
    from ..pruning import PrunePlan

    s = settings
    n_cells = sum(len(members) for members in groups.values())
    lines = [
        "# zigzag sweep",
        "",
        f"{len(s['models'])} model(s) × {len(s['texts'])} text set(s) × {len(s['k'])} k × {s['subsets']} subset(s) "
        f"= {n_cells} cells. Each (model, texts) pair is extracted once (hook `{s['hook']}`, pooling "
        f"`{s['pooling'] or 'auto'}`, at most {s['n_texts']} texts, seed {s['seed']}); each cell is the zigzag "
        f"({s['zigzag']}, H0–H{s['max_dim']}) of its texts, then descriptors and pruning plans, as `zigzag run` makes them.",
        "",
        f"Tasks: {tally.total} in all, {tally.done} run now, {tally.cached} found in the cache, {tally.failed} failed.",
        "",
        "## S̄₁ profiles",
        "",
    ]
    if has_figure:
        lines += [f"![S̄₁ profiles]({FIGURE})", "",
                  "Average persistence similarity S̄₁(ℓ) over relative depth ℓ / (n − 1), one line per model, "
                  "texts and k; the band is ± one standard deviation across the disjoint subsets of the texts "
                  "(none with a single subset).", ""]
    else:
        lines += ["No cell finished, so there is no figure.", ""]
    lines += ["| model · texts · k | cells | peak depth (mean ± std) | peak S̄₁ (mean ± std) |", "| --- | --- | --- | --- |"]
    for label, members in groups.items():
        done = [r for _, r in members if r is not None]
        if not done:
            lines.append(f"| {label} | 0 of {len(members)} | – | – |")
            continue
        depth = np.array([r["peak_depth"] for r in done])
        value = np.array([r["peak_value"] for r in done])
        spread = (lambda a: f" ± {a.std(ddof=1):.3f}") if len(done) > 1 else (lambda a: "")
        lines.append(f"| {label} | {len(done)} of {len(members)} | {depth.mean():.3f}{spread(depth)} | "
                     f"{value.mean():.3f}{spread(value)} |")
    qs = [f"q={q:g}" for q in s["q"]]
    lines += ["", "## Plans", "",
              "Blocks to remove, 0-based; the last representation (after the final block) is never removed.", "",
              "| model | texts | k | subset | texts used | bars | peak layer | " + " | ".join(qs) + " |",
              "| --- | --- | --- | --- | --- | --- | --- | " + " | ".join("---" for _ in qs) + " |"]
    for members in groups.values():
        for cell, record in members:
            head = f"| {cell.extraction.model} | {cell.extraction.texts.label} | {cell.k} | {cell.subset} |"
            if record is None:
                lines.append(head + " failed | | | " + " | ".join("" for _ in qs) + " |")
                continue
            plans = [_ranges_text(PrunePlan.from_dict(p)) for p in record["plans"]]
            lines.append(f"{head} {record['n_texts']} | {record['n_bars']} | {record['peak_layer']} | "
                         + " | ".join(plans) + " |")
    lines += ["", "## Files", "",
              "- `summary.csv`: one row per cell, with its parameters, peak and each plan's blocks "
              "(`blocks_q<q>`, space-separated).",
              "- `barcodes/<key>.npz`: each cell's barcode (`zigzag.Barcode.load`), named by a content hash of "
              "its inputs and parameters; `cells/<key>.json`: its descriptors and plans.",
              "- `extractions/<key>/`: the layer clouds of each (model, texts); they can be deleted once the "
              "barcodes exist."]
    for metric in distances:
        lines.append(f"- `distances_{metric}.csv`: the {metric} distance between the cells' H₁ diagrams in "
                     "layer units (`zigzag.distance`).")
    if tally.errors:
        lines += ["", "## Failures", ""]
        lines += [f"- `{name}`: {text}" for name, text in tally.errors.items()]
    return "\n".join(lines) + "\n"
