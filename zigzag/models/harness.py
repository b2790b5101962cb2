"""The lm-eval-harness bridge: standard benchmark tasks on an in-memory (for example pruned) model.

:func:`lm_eval_tasks` runs tasks on a model already in memory; :func:`side_by_side`
lines up the metrics of the full and the pruned model, and :func:`markdown_table`
prints them. ``zigzag evaluate`` is these three in a row.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np

__all__ = ["LM_EVAL_EXTRA", "check_lm_eval", "lm_eval_tasks", "markdown_table", "side_by_side", "task_manager"]

#: How to install lm-eval-harness with what its Hugging Face model class needs.
LM_EVAL_EXTRA = "pip install 'zigzag-tda[lmeval]' (or pip install lm-eval[hf])"


def check_lm_eval(caller: str = "lm_eval_tasks") -> str:
    """The installed lm-eval version, or an ImportError that names the extra to install.

    Raises
    ------
    ImportError
        When lm-eval-harness (or its Hugging Face model class) cannot be imported.
    """
    try:
        import lm_eval
        from lm_eval.models.huggingface import HFLM  # noqa: F401 - needs the [hf] extra's packages
    except ImportError as err:
        raise ImportError(f"{caller} needs lm-eval-harness ({err}): {LM_EVAL_EXTRA}") from None
    return str(getattr(lm_eval, "__version__", "unknown"))


def lm_eval_tasks(model, tokenizer, tasks, *, batch_size: int = 8, limit=None, num_fewshot=None,
                  include_path=None, prefix_token_id=None, add_bos_token=None, progress: bool = True,
                  **kwargs) -> dict:
    """Run lm-eval-harness tasks on an in-memory causal language model (for example a pruned one).

    Compare ``lm_eval_tasks(model, ...)`` with
    ``lm_eval_tasks(prune_model(model, plan), ...)``, or use ``zigzag evaluate``.
    Hub tasks need their datasets on the machine (the Hugging Face cache);
    local tasks are YAML files in ``include_path``.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model with a language-model head; it runs where it is (its device).
    tokenizer : transformers tokenizer
    tasks : str or list of str
        lm-eval task (or group) names, e.g. ``["hellaswag", "arc_easy"]``.
    batch_size : int, default=8
    limit : int or float, optional
        Examples per task (a float below 1: a fraction), lm-eval's ``limit``.
    num_fewshot : int, optional
    include_path : path or list of paths, optional
        Folders (or YAML files) of extra task definitions, as lm-eval's
        ``--include_path``. A relative ``data_files`` in such a YAML resolves
        against the working folder, not the YAML's.
    prefix_token_id : int, optional
        Token put before a continuation that has no context. lm-eval takes BOS,
        else EOS; a tokenizer with neither needs this.
    add_bos_token : bool, optional
        Force adding (or not) the tokenizer's special tokens; default: the
        tokenizer's own behaviour.
    progress : bool, default=True
        False silences lm-eval's progress bars (it has no switch of its own).
    **kwargs
        Passed to ``lm_eval.simple_evaluate`` (for example ``task_manager=``
        from :func:`task_manager`, to index the tasks once for several models).

    Returns
    -------
    dict
        lm-eval's ``results`` mapping: task name to metrics (``"acc,none"``, ...).

    Raises
    ------
    ImportError
        When lm-eval is not installed (the message names the extra).
    ValueError
        Empty ``tasks``, or a tokenizer without BOS and EOS and no ``prefix_token_id``.
    """
    check_lm_eval("lm_eval_tasks")
    import lm_eval
    from lm_eval.models.huggingface import HFLM

    tasks = [tasks] if isinstance(tasks, str) else [str(t) for t in tasks]
    if not tasks:
        raise ValueError("lm_eval_tasks needs at least one task name, e.g. tasks=['arc_easy'].")
    if prefix_token_id is None and tokenizer.bos_token_id is None and tokenizer.eos_token_id is None:
        raise ValueError(
            f"The tokenizer ({type(tokenizer).__name__}) has no BOS or EOS token, which lm-eval puts before a "
            "continuation without context; pass prefix_token_id= (for example the tokenizer's pad token id)."
        )
    manager = kwargs.pop("task_manager", None) or task_manager(tasks, include_path)
    with _silenced_progress_bars(not progress):
        wrapped = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size,
                       prefix_token_id=prefix_token_id, add_bos_token=add_bos_token)
        output = lm_eval.simple_evaluate(model=wrapped, tasks=tasks, limit=limit, num_fewshot=num_fewshot,
                                         task_manager=manager, **kwargs)
    return output["results"]


def task_manager(tasks, include_path=None):
    """An lm-eval ``TaskManager`` that knows ``tasks``; build it once to run several models.

    Indexing lm-eval's built-in tasks (about 14,700 names) takes about 20 s of CPU, so when
    every task is a plain task found in ``include_path`` the built-in ones are
    left out.
    """
    check_lm_eval("task_manager")
    from lm_eval.tasks import TaskManager

    tasks = [tasks] if isinstance(tasks, str) else [str(t) for t in tasks]
    if include_path is not None:
        paths = [str(p) for p in (include_path if isinstance(include_path, (list, tuple)) else [include_path])]
        local = TaskManager(include_path=paths, include_defaults=False)
        if set(tasks) <= set(local.all_subtasks):
            return local
        return TaskManager(include_path=paths)
    return TaskManager()


@contextmanager
def _silenced_progress_bars(silence: bool):
    """Every tqdm bar made inside the block is disabled (lm-eval and datasets have no switch for theirs)."""
    if not silence:
        yield
        return
    from tqdm import std

    original = std.tqdm.__init__

    def disabled(self, *args, **kwargs):
        kwargs["disable"] = True
        original(self, *args, **kwargs)

    std.tqdm.__init__ = disabled
    try:
        yield
    finally:
        std.tqdm.__init__ = original


def side_by_side(full: dict, pruned: dict) -> list:
    """One row per task and metric: the full model's value, the pruned model's, and the change.

    Parameters
    ----------
    full, pruned : dict
        :func:`lm_eval_tasks` results of the two models on the same tasks.

    Returns
    -------
    list of dict
        Keys ``task``, ``metric``, ``filter``, ``full``, ``pruned``,
        ``delta`` (pruned − full), ``full_stderr``, ``pruned_stderr`` (None
        when lm-eval gives none). Metrics only one side has are left out.
    """
    rows = []
    for task in sorted(set(full) & set(pruned)):
        a, b = full[task], pruned[task]
        for key in a:
            metric, sep, filt = str(key).partition(",")
            if not sep or metric.endswith("_stderr") or key not in b:
                continue
            x, y = _number(a[key]), _number(b[key])
            if x is None or y is None:
                continue
            stderr = f"{metric}_stderr,{filt}"
            rows.append({"task": task, "metric": metric, "filter": filt, "full": x, "pruned": y, "delta": y - x,
                         "full_stderr": _number(a.get(stderr)), "pruned_stderr": _number(b.get(stderr))})
    return rows


def markdown_table(rows: list) -> str:
    """The rows of :func:`side_by_side` as a Markdown table (values with 4 significant digits, ± stderr)."""
    def cell(value, err):
        return f"{value:.4g}" + (f" ± {err:.2g}" if err is not None else "")

    lines = ["| task | metric | full | pruned | change |", "| --- | --- | ---: | ---: | ---: |"]
    for r in rows:
        metric = r["metric"] if r["filter"] in ("", "none") else f"{r['metric']} ({r['filter']})"
        lines.append(f"| {r['task']} | {metric} | {cell(r['full'], r['full_stderr'])} | "
                     f"{cell(r['pruned'], r['pruned_stderr'])} | {r['delta']:+.4g} |")
    return "\n".join(lines) + "\n"


def _number(value):
    """A finite float, or None for lm-eval's "N/A" and other non-numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
