"""Write docs/checks.md from the checks' docstrings, with a picture of each kind drawn
from a real run in tests/data. Run it after changing a check:

    python docs/make_checks.py
"""

from __future__ import annotations

from pathlib import Path

import losstest
from losstest.checks import CHECKS, HEADINGS
from losstest.reporters.plot import figure

DOCS = Path(__file__).parent
DATA = DOCS.parent / "tests" / "data"
EXAMPLES = {
    "nan": "realruns/nan.jsonl",
    "divergence": "realruns/late_divergence.jsonl",
    "spike": "realruns/spikes.jsonl",
    "oscillation": "realruns/oscillation.jsonl",
    "plateau": "realruns/plateau.jsonl",
    "overfitting": "corpus/whisper-large-v2-ja/trainer_state.json",
    "underfitting": "corpus/dl-fundamentals/6.5-part2-cli-simple/version_5",
    "restart": "realruns/resumed.jsonl",
    "instability": "sweep/lr=10_seed=1/metrics.jsonl",
    "runaway": "families/density_unbounded_jsonl",
    "stall": "families/autoencoder_stall_mlflow",
    "short": "corpus/dl-fundamentals/6.8-debugging/version_6/metrics.csv",
}


def _paragraphs(body: str) -> str:
    """Each docstring heading starts a paragraph of its own, the heading in bold."""
    text = " ".join(body.split())
    for heading in HEADINGS:
        text = text.replace(heading, f"\n\n**{heading}**")
    return text.strip()


def page() -> str:
    parts = [
        "# The checks\n",
        "Each check is one module of `losstest/checks/`; this page is written from their "
        "docstrings by `docs/make_checks.py` (`losstest explain KIND` prints the same). "
        "Thresholds are set per check in the configuration (`[checks.KIND]`); `--select` and "
        "`--ignore` take a check's kind or its code.\n",
    ]
    for kind, check in CHECKS.items():
        title, _, body = check.doc.partition("\n\n")
        parts.append(f"## {check.code} {' '.join(title.split())}\n\n{_paragraphs(body)}\n")
        parts.append(f"Default severity: `{check.severity.value}`.\n")
        if kind in EXAMPLES:
            parts.append(
                f"![{kind}](img/{kind}.png)\n\n*Example: `tests/data/{EXAMPLES[kind]}`.*\n"
            )
    return "\n".join(parts)


def main() -> None:
    (DOCS / "checks.md").write_text(page())
    for kind, example in EXAMPLES.items():
        config = losstest.Config(num_classes=2) if kind == "underfitting" else None
        runs = losstest.analyze(DATA / example, config).runs
        figure(runs).savefig(DOCS / "img" / f"{kind}.png")


if __name__ == "__main__":
    main()
