"""The lm-eval-harness bridge: standard benchmark tasks on an in-memory (for example pruned) model."""

from __future__ import annotations

__all__ = ["lm_eval_tasks"]


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
