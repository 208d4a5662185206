"""losstest: test the loss curves of machine-learning training runs.

import losstest
report = losstest.analyze("runs/")          # or a frame from losstest.load(...)
for run in report.runs:
    print(run.run, run.verdict, [f.kind for f in run.findings])
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import analyze, load
from .config import Config
from .errors import ConfigError, InputError, LossTestError
from .monitor import Monitor
from .readers import ReadOptions
from .report import Finding, Report, RunReport, Severity

__all__ = [
    "Config", "ConfigError", "Finding", "InputError", "LossTestError", "Monitor", "ReadOptions",
    "Report", "RunReport", "Severity", "__version__", "analyze", "load",
]  # fmt: skip
