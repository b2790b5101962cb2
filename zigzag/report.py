"""The end-to-end pruning-criterion run behind ``zigzag run``: model + texts → report folder.

Stages: load the model and texts → extract layer clouds → zigzag barcode →
descriptors → pruning plans (the topological criterion at each q, and the
angular-distance and Block-Influence baselines for the same number of
blocks) → optionally prune the model with each plan and evaluate it beside
the full one → figures and ``report.md``.

The report is written into ``<out>.partial`` and renamed to ``<out>`` at the
end, so a report folder is always complete.
"""

from __future__ import annotations

import logging
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from ._files import save_figure, write_json, write_text
from ._validation import check_float, check_int

__all__ = ["RunConfig", "run_report"]

log = logging.getLogger(__name__)

FIGURES = {
    "profile": "Pruning profile r(l) = S̄_1(l) with the blocks each q removes shaded",
    "diagram": "Persistence diagram in layer units",
    "histogram": "Birth × persistence histogram of H_1 bars (log counts)",
    "betti": "Betti numbers per layer (log scale)",
    "similarity": "Persistence similarity S_1(i, j) / β_1(i)",
}


@dataclass(frozen=True)
class RunConfig:
    """Everything ``zigzag run`` needs; the defaults run offline on the embedded model.

    ``pooling=None`` takes the last real token for decoders (the paper's
    choice) and the mean over real tokens for encoders (how sentence
    encoders such as all-MiniLM-L6-v2 pool; their last real token is
    ``[SEP]``). ``blocks=None`` sizes the baselines like the first q plan.
    """

    model: str = "embedded"
    texts: str | None = None
    text_field: str = "text"
    text_column: str = "text"
    dedupe: bool = False
    n_texts: int = 400
    hook: str = "post_attention_norm"
    pooling: str | int | None = None
    k: int = 5
    max_dim: int = 1
    q: tuple = (0.9, 0.8)
    blocks: int | None = None
    evaluate: bool = True
    out: str = "zigzag-report"
    seed: int = 0
    batch_size: int = 32
    max_length: int = 128
    device: str | None = None
    extra: dict = field(default_factory=dict)

    def validated(self) -> "RunConfig":
        """Check every field once, before any work starts."""
        check_int(self.n_texts, "n_texts", minimum=self.k + 1, caller="zigzag run")
        check_int(self.k, "k", minimum=1, caller="zigzag run")
        check_int(self.max_dim, "max_dim", minimum=1, caller="zigzag run")  # the criterion needs H_1
        for q in self.q:
            check_float(q, "q", low=0.0, high=1.0, caller="zigzag run")
        if self.blocks is not None:
            check_int(self.blocks, "blocks", minimum=1, caller="zigzag run")
        return self


def _versions() -> dict:
    names = ("zigzag-tda", "numpy", "scipy", "gudhi", "dionysus", "torch", "transformers", "matplotlib")
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _prepare_folder(out: Path) -> Path:
    """A fresh ``<out>.partial`` folder; refuse to replace an ``out`` that is not a zigzag report."""
    if out.exists() and not (out / "run.json").is_file():
        raise ValueError(f"{out} exists and is not a zigzag report; choose another --out or remove it.")
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    return partial


def _finish_folder(partial: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)


class _Stages:
    """Times each stage and reports it on stderr (unless quiet)."""

    def __init__(self, progress: bool):
        self.progress = progress
        self.seconds = {}

    def __call__(self, name: str):
        stages = self

        class _Stage:
            def __enter__(self):
                if stages.progress:
                    print(f"[zigzag run] {name} ...", file=sys.stderr, flush=True)
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                stages.seconds[name] = time.perf_counter() - self.start

        return _Stage()


def _load_texts(config: RunConfig) -> tuple[list, str]:
    from .texts import builtin_corpus, load_texts

    if config.texts is None:
        return builtin_corpus(config.n_texts, seed=config.seed), "built-in corpus (standard-library docstrings)"
    texts = load_texts(config.texts, field=config.text_field, column=config.text_column, dedupe=config.dedupe)
    if len(texts) > config.n_texts:
        rng = np.random.default_rng(config.seed)
        texts = texts.take(np.sort(rng.choice(len(texts), config.n_texts, replace=False)))
    return texts, str(config.texts)


def run_report(config: RunConfig = RunConfig(), *, progress: bool = True) -> Path:
    """Run the whole pruning-criterion pipeline and write the report folder.

    Parameters
    ----------
    config : RunConfig
    progress : bool, default=True
        Stage lines and progress bars on stderr.

    Returns
    -------
    pathlib.Path
        The report folder (``config.out``), holding ``report.md``,
        ``run.json``, ``barcode.csv`` (the authors' format), ``barcode.npz``,
        ``descriptors.json``, ``plans.json``, ``evaluation.json`` and the
        figures.
    """
    from .adapters.families import family_of, resolve_defaults
    from .adapters.hf import extract
    from .baselines import baseline_plans, block_distances
    from .descriptors import describe
    from .adapters.loading import load_model
    from .models import evaluate, prune_model
    from .pipeline import compute
    from .pruning import prune_plans

    config = config.validated()
    out = Path(config.out)
    folder = _prepare_folder(out)
    stage = _Stages(progress)
    with stage("load model and texts"):
        model, tokenizer = load_model(config.model)
        texts, texts_source = _load_texts(config)
        family = family_of(model)
        _, pooling = resolve_defaults(model, config.hook, config.pooling)  # the one default per model kind
    run = dict(batch_size=config.batch_size, max_length=config.max_length, device=config.device, progress=progress)
    with stage("extract layer clouds"):
        clouds = extract(model, tokenizer, texts, hook=config.hook, pooling=pooling, **run)
    with stage("zigzag barcode"):
        bars = compute(clouds, k=config.k, max_dim=config.max_dim, progress=progress)
        bars.save(folder / "barcode.csv")
        bars.save(folder / "barcode.npz")
    with stage("descriptors"):
        desc = describe(bars, dims=tuple(range(config.max_dim + 1)))
        desc.save(folder / "descriptors.json")
    with stage("pruning plans and baselines"):
        plans = prune_plans(bars, q=config.q, blocks=() if config.blocks is None else (config.blocks,))
        m = config.blocks if config.blocks is not None else next((p.n_removed for p in plans if p.n_removed), 0)
        if m:
            distances = block_distances(model, tokenizer, texts, **run)
            plans += list(baseline_plans(distances, m).values())
        write_json(folder / "plans.json", {"n_blocks": plans[0].n_blocks, "plans": [p.to_dict() for p in plans]})
    evaluations = []
    if config.evaluate:
        with stage("prune and evaluate each plan"):
            seen = {}
            for plan in plans:
                if not plan.n_removed:
                    continue
                if plan.blocks not in seen:
                    pruned = prune_model(model, plan.blocks)
                    seen[plan.blocks] = evaluate(model, pruned, tokenizer, texts, k=config.k, **run)
                    del pruned
                evaluations.append({"criterion": plan.criterion, "label": plan.label, "blocks": list(plan.blocks),
                                    **seen[plan.blocks].to_dict()})
        write_json(folder / "evaluation.json", {"evaluations": evaluations})
    with stage("figures"):
        _figures(bars, config, folder)
    with stage("persistent loops"):
        from .plotting import persistent_loops_section

        loops = persistent_loops_section(clouds, bars, texts, folder, progress=progress)
    config_dict = asdict(config) | {"pooling": pooling}
    record = {
        "config": config_dict,
        "model": {"name": model.config._name_or_path or config.model, "family": family.name, "kind": family.kind,
                  "n_blocks": plans[0].n_blocks},
        "texts": {"source": texts_source, "n": len(texts), "sha256": clouds.meta.get("texts_sha256")},
        "clouds": {"n_layers": clouds.n_layers, "n_points": clouds.n_points, "names": list(clouds.names)},
        "barcode": {"n_bars": len(bars), "bars_per_dim": {int(p): int(np.sum(bars.dimension == p)) for p in bars.dims}},
        "versions": _versions(),
        "seconds": stage.seconds,
    }
    write_json(folder / "run.json", record)
    write_text(folder / "report.md", _markdown(record, desc, plans, evaluations, loops))
    _finish_folder(folder, out)
    return out


def _figures(bars, config: RunConfig, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .plotting import plot_betti, plot_diagram, plot_histogram, plot_profile, plot_similarity

    makers = {
        "profile": lambda: plot_profile(bars, q=config.q, blocks=() if config.blocks is None else (config.blocks,)),
        "diagram": lambda: plot_diagram(bars),
        "histogram": lambda: plot_histogram(bars, 1),
        "betti": lambda: plot_betti(bars, logy=True),
        "similarity": lambda: plot_similarity(bars, 1),
    }
    for name, make in makers.items():
        fig = make().figure
        save_figure(fig, folder / f"{name}.png", dpi=110)
        plt.close(fig)


def _markdown(record: dict, desc, plans, evaluations, loops=()) -> str:
    cfg, model = record["config"], record["model"]
    profile = np.asarray(desc.average_similarity[1])
    peak = int(np.argmax(profile))
    lines = [
        "# zigzag report",
        "",
        f"Model **{model['name']}** ({model['family']}, {model['n_blocks']} blocks), "
        f"{record['texts']['n']} texts from {record['texts']['source']}; one vector per text at each of "
        f"{record['clouds']['n_layers']} representations (hook `{cfg['hook']}`, pooling `{cfg['pooling']}`).",
        f"Zigzag of kNN flag complexes with k = {cfg['k']}, homology H0–H{cfg['max_dim']}: "
        f"{record['barcode']['n_bars']} bars ({', '.join(f'H{p}: {n}' for p, n in record['barcode']['bars_per_dim'].items())}).",
        "",
        f"The pruning profile r(ℓ) = S̄₁(ℓ) peaks at representation {peak} of 0..{len(profile) - 1} "
        f"(relative depth {peak / max(len(profile) - 1, 1):.2f}, value {profile[peak]:.3f}). "
        "Blocks whose representation is at least q × the peak are the most redundant: the plans below remove them.",
        "",
        "![pruning profile](profile.png)",
        "",
        "## Plans",
        "",
        "Blocks are 0-based; the last representation (after the final block / final norm) is never removed.",
        "",
        "| criterion | rule | removed blocks | removed |",
        "| --- | --- | --- | --- |",
    ]
    for plan in plans:
        ranges = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in plan.ranges()) or "none"
        lines.append(f"| {plan.criterion} | {plan.label} | {ranges} | {plan.n_removed} of {plan.n_blocks} |")
    lines += ["", "## Evaluation", ""]
    if evaluations:
        keys = list(evaluations[0]["metrics"])
        lines += [
            f"Pruned model beside the full one on the same {evaluations[0]['n_texts']} texts ({evaluations[0]['kind']}).",
            "",
            "| criterion | rule | blocks | " + " | ".join(keys) + " |",
            "| --- | --- | --- | " + " | ".join("---" for _ in keys) + " |",
        ]
        for ev in evaluations:
            values = " | ".join(f"{ev['metrics'][k]:.4g}" for k in keys)
            lines.append(f"| {ev['criterion']} | {ev['label']} | {ev['n_blocks_full']} → {ev['n_blocks_pruned']} | {values} |")
        if evaluations[0]["kind"] == "encoder":
            lines += ["", "`mean_cosine`: cosine between each text's pooled embedding from the full and the pruned "
                      "model (1 = unchanged); `knn_overlap`: fraction of each text's nearest neighbours kept."]
        else:
            lines += ["", "`perplexity_ratio`: pruned over full perplexity on the texts (1 = unchanged)."]
    else:
        lines.append("Not run (`--no-evaluate`, or no plan removes a block).")
    lines += ["", "## Figures", ""]
    for name, caption in FIGURES.items():
        if name != "profile":
            lines += [f"**{caption}**", "", f"![{name}]({name}.png)", ""]
    lines += list(loops)
    lines += ["## Parameters and versions", "", "| parameter | value |", "| --- | --- |"]
    lines += [f"| {key} | `{value}` |" for key, value in cfg.items() if key != "extra"]
    lines += ["", "| package | version |", "| --- | --- |"]
    lines += [f"| {name} | {version} |" for name, version in record["versions"].items()]
    lines += ["", "## Time per stage", "", "| stage | seconds |", "| --- | --- |"]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in record["seconds"].items()]
    lines += ["", "Files: `barcode.csv` (the authors' format: dimension, birth, death; 1-based steps), "
              "`barcode.npz` (lossless, with parameters), `descriptors.json`, `plans.json`, `evaluation.json`, "
              "`run.json` (everything above, machine-readable), `loops.png`.", ""]
    return "\n".join(lines)
