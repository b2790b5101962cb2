"""``report.md``: one function per section, each turning a :class:`~zigzag.report.RunResult` into lines.

To add a section, write ``def my_section(result) -> list[str]`` (markdown
lines, starting with its ``## `` heading) and put it in :data:`SECTIONS`
where it should appear.
"""

from __future__ import annotations

import numpy as np

from ..pruning import format_blocks
from .figures import FIGURES

__all__ = ["SECTIONS", "render"]


def summary(result) -> list:
    record, cfg = result.record, result.config
    model, texts, barcode = record["model"], record["texts"], record["barcode"]
    profile = np.asarray(result.plans[0].scores)
    peak = result.peak
    used = f"{texts['n']} texts" + (f" (of {texts['requested']} asked for)" if texts["n"] < texts["requested"] else "")
    per_dim = ", ".join(f"H{p}: {n}" for p, n in barcode["bars_per_dim"].items())
    return [
        "# zigzag report",
        "",
        f"Model **{model['name']}** ({model['family']}, {model['n_blocks']} blocks), {used} from "
        f"{texts['source']}; one vector per text at each of {record['clouds']['n_layers']} representations "
        f"(hook `{cfg.hook}`, pooling `{cfg.pooling}`).",
        f"Zigzag of kNN flag complexes with k = {cfg.k}, homology H0–H{cfg.max_dim}: {barcode['n_bars']} bars "
        f"({per_dim}).",
        "",
        f"The pruning profile r(ℓ) = S̄₁(ℓ) peaks at representation {peak} of 0..{len(profile) - 1} "
        f"(relative depth {peak / max(len(profile) - 1, 1):.2f}, value {profile[peak]:.3f}). "
        "Blocks whose representation is at least q × the peak are the most redundant: the plans below remove them.",
        "",
        "![pruning profile](profile.png)",
        "",
    ]


def plans(result) -> list:
    record = result.record
    lines = [
        "## Plans",
        "",
        f"Blocks are 0-based; the last representation ({record['model']['last_representation']}) is never removed. "
        "A plan that removes every block, or all but one, is *degenerate*: it is shown but not applied.",
        "",
        "| criterion | rule | removed blocks | removed | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for plan in result.plans:
        note = f"degenerate: {plan.degenerate}" if plan.degenerate else ""
        lines.append(f"| {plan.criterion} | {plan.label} | {format_blocks(plan)} | {plan.n_removed} of "
                     f"{plan.n_blocks} | {note} |")
    baselines = record["baselines"]
    lines += ["", f"Baselines (angular distance, Block Influence): {baselines['why']}"
              + (f", m = {baselines['blocks']}." if baselines["blocks"] is not None else "."), ""]
    return lines


def evaluation(result) -> list:
    lines = ["## Evaluation", ""]
    done = [e for e in result.evaluations if e.evaluation is not None]
    if not result.config.evaluate:
        return lines + ["Not run (`--no-evaluate`).", ""]
    if done:
        first = done[0].evaluation
        keys = list(first.metrics)
        lines += [
            f"Each pruned model beside the full one on the same {first.n_texts} texts ({first.kind}); the full "
            "model ran once, for every plan.",
            "",
            "| criterion | rule | blocks | " + " | ".join(keys) + " |",
            "| --- | --- | --- | " + " | ".join("---" for _ in keys) + " |",
        ]
        for e in done:
            ev = e.evaluation
            values = " | ".join(f"{ev.metrics[k]:.4g}" for k in keys)
            lines.append(f"| {e.plan.criterion} | {e.plan.label} | {ev.n_blocks_full} → {ev.n_blocks_pruned} "
                         f"| {values} |")
        if first.kind == "encoder":
            lines += ["", "`mean_cosine`: cosine between each text's pooled embedding from the full and the pruned "
                      "model (1 = unchanged); `knn_overlap`: fraction of each text's nearest neighbours kept."]
        else:
            lines += ["", "`perplexity_ratio`: pruned over full perplexity on the texts (1 = unchanged)."]
    skipped = [e for e in result.evaluations if e.evaluation is None]
    if skipped:
        lines += ["", "Not evaluated: " + "; ".join(f"{e.plan.criterion} {e.plan.label} ({e.skipped})"
                                                    for e in skipped) + "."]
    return lines + [""]


def figures(result) -> list:
    lines = ["## Figures", ""]
    for name, (caption, _) in FIGURES.items():
        if name != "profile":
            lines += [f"**{caption}**", "", f"![{name}]({name}.png)", ""]
    return lines


def persistent_loops(result) -> list:
    return list(result.loops)


def parameters(result) -> list:
    record, cfg = result.record, result.config
    texts = record["texts"]
    default = f" (default for {record['model']['kind']}s)"
    shown = {
        "n_texts": f"{texts['n']}" + (f" ({texts['requested']} asked for; the texts hold {texts['n']})"
                                      if texts["n"] < texts["requested"] else ""),
        "hook": f"{cfg.hook}" + ("" if record["requested"]["hook"] is not None else default),
        "pooling": f"{cfg.pooling}" + ("" if record["requested"]["pooling"] is not None else default),
    }
    lines = ["## Parameters and versions", "", "| parameter | value |", "| --- | --- |"]
    for key, value in record["config"].items():
        if key != "extra":
            lines.append(f"| {key} | `{shown.get(key, value)}` |")
    lines += ["", "| package | version |", "| --- | --- |"]
    lines += [f"| {name} | {version} |" for name, version in record["versions"].items()]
    return lines + [""]


def timing(result) -> list:
    lines = ["## Time per stage", "", "| stage | seconds |", "| --- | --- |"]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in result.seconds.items()]
    lines += ["", "The barcode, the figures and the persistent loops are made beside the model's work (in a second "
              "process); the figures and the loops are drawn while the plans are evaluated, so their times overlap "
              "the evaluation's."]
    inner = result.record["barcode"].get("timings")
    if inner:
        lines += ["", "Inside the barcode stage: " + ", ".join(
            f"{name} {seconds:.2f} s" for name, seconds in inner.items() if isinstance(seconds, (int, float))) + "."]
    return lines + [""]


def files(result) -> list:
    return ["## Files", "",
            "`barcode.csv` (the authors' format: dimension, birth, death; 1-based steps), `barcode.npz` (lossless, "
            "with parameters), `descriptors.json`, `plans.json`, `evaluation.json`, the figures (with `loops.png`), and `run.json` "
            "(everything above, machine-readable, with the list of the report's files: zigzag replaces a report "
            "only with `--overwrite`, and then removes only the files listed there).", ""]


#: The sections of ``report.md``, in order.
SECTIONS = [summary, plans, evaluation, figures, persistent_loops, parameters, timing, files]


def render(result) -> str:
    """The text of ``report.md``."""
    return "\n".join(line for section in SECTIONS for line in section(result))
