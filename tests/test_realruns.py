"""The detectors on real runs with known truth: bench/realruns/labels.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import losstest

from .conftest import DATA

LABELS = json.loads((Path(__file__).parents[1] / "bench/realruns/labels.json").read_text())
RUNS = {name: label for name, label in LABELS.items() if not name.startswith("_")}


@pytest.mark.parametrize("name", RUNS)
def test_labeled_real_run(name):
    label = RUNS[name]
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{name} is produced by `make eval`")
    (run,) = losstest.analyze(path).runs
    kinds = sorted({f.kind for f in run.findings if f.severity != "info"})
    assert (run.verdict, kinds) == (label["verdict"], sorted(label["kinds"]))
    length = run.last_step - (run.curves.train.step[0] if run.curves.train is not None else 0)
    if "onset" in label:
        onset = min(f.start_step for f in run.findings if f.kind in label["kinds"])
        assert abs(onset - label["onset"]) <= 0.05 * length
    if "spikes" in label:
        found = [f.evidence["peak_step"] for f in run.findings if f.kind == "spike"]
        assert found == label["spikes"]


def test_resumed_real_run_reports_the_restart():
    (run,) = losstest.analyze(DATA / "realruns/resumed.jsonl").runs
    restarts = [(f.metric, f.evidence) for f in run.findings if f.kind == "restart"]
    assert restarts == [("loss", {"from_step": 500, "to_step": 401}),
                        ("val_loss", {"from_step": 500, "to_step": 450})]  # fmt: skip
