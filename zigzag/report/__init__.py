"""``zigzag run`` as a library call: a model and texts in, a report folder and a :class:`RunResult` out.

* :mod:`zigzag.report.run`: :class:`RunConfig`, :func:`run_report` (the
  stages) and :class:`RunResult`;
* :mod:`zigzag.report.folder`: where the report goes and what it may replace
  (only its own files, listed in ``run.json``);
* :mod:`zigzag.report.markdown`: ``report.md``, one function per section;
* :mod:`zigzag.report.figures`: the figures, each on its own matplotlib Figure.

Library code here never prints: stages show on stderr through tqdm (off with
``progress=False``) and go to the ``zigzag.report`` logger.
"""

from .folder import ReportFolder
from .run import PlanEvaluation, RunConfig, RunResult, load_run_texts, run_report

__all__ = ["PlanEvaluation", "ReportFolder", "RunConfig", "RunResult", "load_run_texts", "run_report"]
