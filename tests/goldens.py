"""The golden files: every text format's rendering of the sample logs (analyze) and of the
learning-rate sweep (compare). Tests only compare with them; `make goldens` writes them anew,
and the diff is reviewed and committed with its reason."""

from __future__ import annotations

import os
from pathlib import Path

import losstest
from losstest.compare import compare
from losstest.reporters import REPORTERS, RenderOptions

ROOT = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "golden"
# drawn, not compared byte for byte: tests/test_plots.py checks the figures, tests/test_html.py
# the pages in a browser
BINARY = {"png", "html"}


def rendered() -> dict[Path, str]:
    """Golden file → what the code renders now (paths relative to the repository)."""
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        report = losstest.analyze(["sample_logs"])
        sweep = compare(["tests/data/sweep"], jobs=1, by=["lr"])
    finally:
        os.chdir(cwd)
    options = RenderOptions(width=100)
    out = {}
    for name, reporter in REPORTERS.items():
        if name in BINARY:
            continue
        if reporter.render is not None:
            out[GOLDEN / f"sample_logs.{name}"] = reporter.render(report, options)
        if reporter.render_comparison is not None:
            out[GOLDEN / f"sweep.{name}"] = reporter.render_comparison(sweep, options)
    return out


if __name__ == "__main__":
    os.environ.pop("GITHUB_STEP_SUMMARY", None)
    for path, text in rendered().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
