"""The end-to-end pruning-criterion run behind ``zigzag run``: model + texts → report folder.

Stages: load the model and texts → extract layer clouds (the block distances
of the baselines, and an encoder's reference outputs for the evaluation, are
read from the same forward pass) → zigzag barcode → descriptors and pruning
plans (the topological criterion at each q, and the angular-distance and
Block-Influence baselines for the same number of blocks) → optionally the
full model's reference outputs (a pass of their own only when the extraction
pass cannot give them exactly: causal LMs) and one pass of each pruned model →
figures and ``report.md``. The barcode, the figures and the persistent loops
are made in a second process (:mod:`zigzag.report._worker`) that loads its
kernels while this one imports torch and draws while this one evaluates.
Where the report goes, and what it may replace, is
:mod:`zigzag.report.folder`'s job.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import platform
import sys
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .._files import jsonable, write_json, write_text
from .._validation import check_float, check_int
from ..adapters.tokens import DEFAULT_BATCH_SIZE
from ..errors import InputError
from ._stages import Stages
from . import _worker
from .figures import FIGURES
from .folder import MANIFEST, ReportFolder

__all__ = ["RunConfig", "RunResult", "PlanEvaluation", "load_run_texts", "run_report"]

log = logging.getLogger("zigzag.report")

@dataclass(frozen=True)
class RunConfig:
    """Everything ``zigzag run`` needs; the defaults run offline on the embedded model.

    ``hook=None`` and ``pooling=None`` take the defaults of the model's kind
    (decoders: the last real token at the post-attention norm, as in the
    paper; encoders: the mean over real tokens, how sentence encoders such as
    all-MiniLM-L6-v2 pool, whose last real token is ``[SEP]``).
    ``blocks=None`` sizes the baselines like the first q plan that removes a
    block and is not degenerate. ``max_length=None`` truncates texts at the
    model's position limit, as :func:`zigzag.extract` does. ``overwrite=True`` replaces an earlier
    report at ``out`` (its own files only).
    """

    model: str = "embedded"
    texts: str | None = None
    text_field: str = "text"
    text_column: str = "text"
    dedupe: bool = False
    n_texts: int = 400
    hook: str | None = None
    pooling: str | int | None = None
    k: int = 5
    max_dim: int = 1
    q: tuple = (0.9, 0.8)
    blocks: int | None = None
    evaluate: bool = True
    out: str = "zigzag-report"
    overwrite: bool = False
    seed: int = 0
    batch_size: int = DEFAULT_BATCH_SIZE
    max_length: int | None = None
    device: str | None = None
    extra: dict = field(default_factory=dict)

    def validated(self) -> "RunConfig":
        """Check every field once, before any work starts (the device too, so a wrong one fails at once)."""
        from ..models.devices import check_device

        check_int(self.k, "k", minimum=1, caller="zigzag run")
        check_int(self.n_texts, "n_texts", minimum=self.k + 1, caller="zigzag run")
        check_int(self.max_dim, "max_dim", minimum=1, caller="zigzag run")  # the criterion needs H_1
        check_int(self.batch_size, "batch_size", minimum=1, caller="zigzag run")
        if self.max_length is not None:
            check_int(self.max_length, "max_length", minimum=1, caller="zigzag run")
        if not self.q and self.blocks is None:
            raise InputError("zigzag run needs at least one tolerance q (e.g. 0.9) or a block count (blocks=8).")
        for q in self.q:
            check_float(q, "q", low=0.0, high=1.0, caller="zigzag run")
        if self.blocks is not None:
            check_int(self.blocks, "blocks", minimum=1, caller="zigzag run")
        return dataclasses.replace(self, q=tuple(float(q) for q in self.q), device=check_device(self.device))


@dataclass(frozen=True, eq=False)
class PlanEvaluation:
    """One plan of a run and what became of it in the evaluation.

    Attributes
    ----------
    plan : PrunePlan
    evaluation : Evaluation or None
        None when the plan was not evaluated.
    skipped : str or None
        Why not: it removes no block, it is degenerate, or the run was
        asked not to evaluate.
    """

    plan: object
    evaluation: object = None
    skipped: str | None = None

    def to_dict(self) -> dict:
        plan = self.plan
        head = {"criterion": plan.criterion, "label": plan.label, "blocks": list(plan.blocks)}
        if self.evaluation is None:
            return {**head, "skipped": self.skipped}
        return {**head, **self.evaluation.to_dict()}


@dataclass(frozen=True, eq=False)
class RunResult:
    """What :func:`run_report` made: the report's files and the objects behind them.

    Attributes
    ----------
    folder : pathlib.Path
        The report folder.
    files : tuple of str
        The report's files (names inside ``folder``), as ``run.json`` lists them.
    config : RunConfig
        As resolved: hook, pooling and the number of texts actually used.
    barcode : Barcode
    descriptors : Descriptors
    plans : tuple of PrunePlan
        The zigzag plans, then the baselines.
    evaluations : tuple of PlanEvaluation
        One per plan when the run evaluated, else empty.
    record : mapping
        The content of ``run.json``: model, texts, clouds, barcode, versions, seconds.
    seconds : mapping of str to float
        Wall time of each stage.
    loops : tuple of str
        The markdown lines of the report's "Persistent loops" section.
    """

    folder: Path
    files: tuple
    config: RunConfig
    barcode: object
    descriptors: object
    plans: tuple
    evaluations: tuple
    record: Mapping
    seconds: Mapping
    loops: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "record", MappingProxyType(dict(self.record)))
        object.__setattr__(self, "seconds", MappingProxyType(dict(self.seconds)))

    @property
    def report(self) -> Path:
        """The path of ``report.md``."""
        return self.folder / "report.md"

    def path(self, name: str) -> Path:
        """The path of one of the report's files, e.g. ``result.path("barcode.npz")``."""
        if name not in self.files:
            raise KeyError(f"{name!r} is not a file of this report; it has {', '.join(self.files)}.")
        return self.folder / name

    @property
    def peak(self) -> int:
        """The representation where the pruning profile peaks."""
        return int(np.argmax(self.plans[0].scores))


def _versions() -> dict:
    names = ("zigzag-tda", "numpy", "scipy", "gudhi", "dionysus", "torch", "transformers", "matplotlib")
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def load_run_texts(config: RunConfig) -> tuple:
    """The texts ``zigzag run`` analyses with ``config``, and where they come from (sweeps use it too).

    The file's texts (``text_field`` / ``text_column`` / ``dedupe``), sampled down to ``n_texts`` with
    ``seed`` and kept in file order, or ``n_texts`` of the built-in corpus.
    """
    from ..texts import builtin_corpus, load_texts

    if config.texts is None:
        return builtin_corpus(config.n_texts, seed=config.seed), "built-in corpus (standard-library docstrings)"
    texts = load_texts(config.texts, field=config.text_field, column=config.text_column, dedupe=config.dedupe)
    if len(texts) > config.n_texts:
        rng = np.random.default_rng(config.seed)
        texts = texts.take(np.sort(rng.choice(len(texts), config.n_texts, replace=False)))
    return texts, str(config.texts)


def _baseline_size(config: RunConfig, plans) -> tuple:
    """How many blocks the baselines remove, and why (None when no plan gives a usable size)."""
    if config.blocks is not None:
        return config.blocks, f"--blocks {config.blocks}"
    for plan in plans:
        if plan.n_removed and not plan.degenerate:
            return plan.n_removed, f"as many as the zigzag plan {plan.label}"
    return None, "no zigzag plan removes a block without being degenerate, so the baselines were not made"


def _second_process():
    """An executor for :mod:`._worker`, already loading its kernels: a spawned process, or a thread where this
    process may not start one (a daemonic multiprocessing or dask worker)."""
    if multiprocessing.current_process().daemon:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zigzag-report")
    else:
        executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_worker.ignore_interrupts)
    with _main_script_hidden():  # the process starts with its first task
        executor.submit(_worker.prepare)
    return executor


@contextlib.contextmanager
def _main_script_hidden():
    """Meanwhile a spawned process does not run the caller's main script again before its tasks.

    The worker needs nothing from it, and a script that calls
    :func:`run_report` without an ``if __name__ == "__main__":`` guard would
    otherwise run again in the new process (and fail there).
    """
    main = sys.modules.get("__main__")
    if main is None:  # an embedded interpreter
        yield
        return
    saved = {name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update(saved)
        if "__spec__" not in saved:
            del main.__spec__


def run_report(config: RunConfig = RunConfig(), *, progress: bool = True) -> RunResult:
    """Run the whole pruning-criterion pipeline and write the report folder.

    Parameters
    ----------
    config : RunConfig
    progress : bool, default=True
        One display per stage on stderr (a progress bar for the stages that
        run in batches, the elapsed time for the others).

    Returns
    -------
    RunResult
        The folder (``config.out``), holding ``report.md``, ``run.json``
        (with the list of the report's files), ``barcode.csv`` (the authors'
        format), ``barcode.npz``, ``descriptors.json``, ``plans.json``,
        ``evaluation.json`` and the figures, and the objects they hold.

    Raises
    ------
    ValueError
        A bad parameter, a pruning profile that is zero everywhere (the
        message names the fix), too few texts.
    zigzag.errors.OutputExistsError
        ``out`` holds something zigzag did not write, or an earlier report
        without ``overwrite=True``.
    """
    from ..adapters.families import family_of, resolve_defaults
    from ..adapters.hf import extract
    from ..adapters.loading import load_model
    from ..baselines import baseline_plans, observe_block_distances
    from ..descriptors import describe
    from ..models import observe_reference
    from ..models.devices import one_thread_fewer_while
    from ..pruning import prune_plans
    from .markdown import render

    config = config.validated()
    stages = Stages(progress)
    # the second process loads the kernels and matplotlib while this one imports torch, then makes the barcode and
    # draws the figures while this one evaluates; leaving the block waits for it, so nothing is written into the
    # folder once it is cleaned up
    with ReportFolder(config.out, overwrite=config.overwrite) as folder, _second_process() as topology:
        with stages("load model and texts"):
            model, tokenizer = load_model(config.model)
            texts, texts_source = load_run_texts(config)
            if len(texts) < config.k + 1:
                raise InputError(f"{texts_source} gives {len(texts)} texts; k={config.k} neighbours need at least "
                                 f"{config.k + 1}. Give more texts or a smaller --k.")
            family = family_of(model)
            hook, pooling = resolve_defaults(model, config.hook, config.pooling)  # the one default per model kind
        run = dict(batch_size=config.batch_size, max_length=config.max_length, device=config.device)
        with stages("extract", ticking=False):
            observing = observe_reference(model) if config.evaluate else contextlib.nullcontext()
            with observe_block_distances(model) as recorder, observing as seen:
                clouds = extract(model, tokenizer, texts, hook=hook, pooling=pooling, progress=progress, **run)
        with stages("zigzag barcode"):
            bars = topology.submit(_worker.barcode, clouds, config.k, config.max_dim,
                                   [folder.path("barcode.csv"), folder.path("barcode.npz")]).result()
        with stages("descriptors and plans"):
            desc = describe(bars, dims=tuple(range(config.max_dim + 1)))
            desc.save(folder.path("descriptors.json"))
            plans = prune_plans(bars, q=config.q, blocks=() if config.blocks is None else (config.blocks,))
            m, why_m = _baseline_size(config, plans)
            if m is not None:
                plans += list(baseline_plans(recorder.result(texts, add_special_tokens=clouds.meta.get(
                    "add_special_tokens")), m).values())
            write_json(folder.path("plans.json"), {"n_blocks": plans[0].n_blocks,
                                                   "baselines": {"blocks": m, "why": why_m},
                                                   "plans": [p.to_dict() for p in plans]})
        drawn = topology.submit(_worker.draw, bars, [p for p in plans if p.criterion.startswith("zigzag")], clouds,
                                texts, {f"{name}.png": folder.path(f"{name}.png") for name in FIGURES},
                                folder.path("loops.png"))
        evaluations = ()
        if config.evaluate:
            with one_thread_fewer_while(drawn):  # the other process draws on one core
                evaluations, source = _evaluate(model, tokenizer, texts, plans, config, stages, progress, seen)
            write_json(folder.path("evaluation.json"),
                       {**({"reference": source} if source else {}),
                        "evaluations": [e.to_dict() for e in evaluations if e.evaluation is not None],
                        "skipped": [e.to_dict() for e in evaluations if e.evaluation is None]})
        with stages("waiting for the figures"):
            loops, drawing = drawn.result()
        if not folder.path("loops.png").exists():  # no loop to draw
            folder.discard("loops.png")
        stages.seconds.update(drawing)  # in the other process, during the evaluation
        resolved = dataclasses.replace(config, hook=hook, pooling=pooling, n_texts=len(texts),
                                       max_length=clouds.meta.get("max_length"))
        record = _record(config, resolved, model, family, texts_source, clouds, bars, plans, (m, why_m),
                         stages.seconds)
        files = tuple(folder.names) + ("report.md", MANIFEST)
        result = RunResult(Path(config.out), files, resolved, bars, desc, tuple(plans), tuple(evaluations), record,
                           stages.seconds, loops)
        write_text(folder.path("report.md"), render(result))
        folder.finish(record)
    return result


def _record(config: RunConfig, resolved: RunConfig, model, family, texts_source: str, clouds, bars, plans,
            baselines: tuple, seconds) -> dict:
    """The content of ``run.json`` (the list of files is added when the report is finished)."""
    return {
        "config": jsonable(asdict(resolved)),
        "requested": {"n_texts": config.n_texts, "hook": config.hook, "pooling": config.pooling},
        "model": {"name": model.config._name_or_path or config.model, "family": family.name, "kind": family.kind,
                  "n_blocks": plans[0].n_blocks, "last_representation": _last_representation(family)},
        "texts": {"source": texts_source, "n": resolved.n_texts, "requested": config.n_texts,
                  "sha256": clouds.meta.get("texts_sha256")},
        "clouds": {"n_layers": clouds.n_layers, "n_points": clouds.n_points, "names": list(clouds.names),
                   "hook": resolved.hook, "pooling": resolved.pooling},
        "barcode": {"n_bars": len(bars),
                    "bars_per_dim": {int(p): int(np.sum(bars.dimension == p)) for p in bars.dims},
                    **({"timings": dict(bars.params["timings"])} if bars.params.get("timings") else {})},
        "plans": [{"criterion": p.criterion, "label": p.label, "blocks": list(p.blocks), "degenerate": p.degenerate}
                  for p in plans],
        "baselines": {"blocks": baselines[0], "why": baselines[1]},
        "versions": _versions(),
        "seconds": dict(seconds),
    }


def _last_representation(family) -> str:
    return "the final norm" if family.final_norm else "the last block's output, as the model has no final norm"


def _evaluate(model, tokenizer, texts, plans, config: RunConfig, stages, progress: bool, seen) -> tuple:
    """The full model's reference outputs, then one pass per distinct set of blocks to remove.

    The reference comes from the extraction pass (``seen``, a
    :class:`~zigzag.models.ReferenceRecorder`) when that pass ran exactly the
    evaluation's batches, else from a pass of its own. Returns the outcomes
    and where the reference came from (None when no plan was evaluated).
    """
    from ..models import evaluate, prune_model, reference_outputs

    todo = {}
    for plan in plans:
        if plan.n_removed and not plan.degenerate:
            todo.setdefault(plan.blocks, plan)
    done, source = {}, None
    if todo:
        run = dict(batch_size=config.batch_size, max_length=config.max_length, device=config.device,
                   progress=progress)
        with stages("reference pass", ticking=False):
            reference = seen.reference(tokenizer, texts, batch_size=config.batch_size, max_length=config.max_length,
                                       device=config.device)
            source = "the extraction pass"
            if reference is None:
                reference = reference_outputs(model, tokenizer, texts, desc="reference pass", **run)
                source = "a pass of its own"
        for i, (blocks, plan) in enumerate(todo.items(), 1):
            name = f"evaluate plan {i}/{len(todo)}"
            with stages(name, ticking=False):
                pruned = prune_model(model, blocks, copy="shared")  # no second copy of the weights
                done[blocks] = evaluate(model, pruned, tokenizer, texts, k=config.k, reference=reference,
                                        desc=f"{name} ({plan.criterion} {plan.label})", **run)
                del pruned
    outcomes = []
    for plan in plans:
        if plan.blocks in done:
            outcomes.append(PlanEvaluation(plan, done[plan.blocks]))
        elif plan.degenerate:
            outcomes.append(PlanEvaluation(plan, skipped=f"degenerate: {plan.degenerate}"))
        else:
            outcomes.append(PlanEvaluation(plan, skipped="removes no block"))
    return tuple(outcomes), source

