"""Models after the analysis: surgery (remove blocks) and evaluation (what the pruned model keeps).

torch and transformers are imported here, in :mod:`zigzag.adapters` and in
:mod:`zigzag.baselines` only, and lazily, so the TDA core needs numpy alone.
"""

from .devices import check_device
from .evaluation import Evaluation, Reference, evaluate, knn_overlap, reference_outputs
from .harness import lm_eval_tasks
from .reference import ReferenceRecorder, observe_reference
from .surgery import prune_model

__all__ = ["Evaluation", "Reference", "ReferenceRecorder", "check_device", "evaluate", "knn_overlap", "lm_eval_tasks",
           "observe_reference", "prune_model", "reference_outputs"]
