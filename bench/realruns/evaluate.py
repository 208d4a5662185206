"""`make eval`: losstest's verdicts on the labeled real runs (labels.json), against a naive
baseline, per finding kind and overall, for all runs and for the held-out ones.

    python bench/realruns/evaluate.py
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

import losstest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
LABELS = json.loads((Path(__file__).parent / "labels.json").read_text())
KINDS = ("nan", "divergence", "spike", "oscillation", "plateau", "overfitting", "underfitting")
HEALTHY = ("pass",)


def naive(run) -> dict[str, list[int]]:
    """What simple rules of thumb find: a NaN, the last value over twice the best, 6 sigma over
    a trailing 128-step window, under 1 % improvement, validation above its minimum at the end."""
    train, val = run.curves.train, run.curves.val
    found: dict[str, list[int]] = defaultdict(list)
    if train is None:
        return found
    y, steps = train.value, train.step
    if not np.isfinite(y).all():
        found["nan"].append(int(steps[np.argmax(~np.isfinite(y))]))
    ok = np.isfinite(y)
    y, steps = y[ok], steps[ok]
    if len(y) < 2:
        return found
    if y[-1] > 2 * y.min():
        found["divergence"].append(int(steps[np.argmin(y)]))
    for i in range(128, len(y)):
        window = y[i - 128 : i]
        if y[i] > window.mean() + 6 * window.std():
            found["spike"].append(int(steps[i]))
    if y.min() > 0.99 * y[0]:
        found["plateau"].append(int(steps[0]))
    if val is not None and val.finite.sum() > 2:
        v = val.value[val.finite]
        if v[-1] > v.min():
            found["overfitting"].append(int(val.step[val.finite][np.argmin(v)]))
    return found


def ours(run) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    for f in run.findings:
        if f.severity != "info":
            found[f.kind].append(int(f.evidence.get("peak_step", f.start_step)))
    return found


def verdict_of(found: dict[str, list[int]]) -> str:
    if any(found[k] for k in KINDS if k not in ("spike", "underfitting")):
        return "fail"
    return "warn" if any(found.values()) else "pass"


def evaluate(names: list[str], method) -> dict:
    tp, fp, fn = defaultdict(int), defaultdict(int), defaultdict(int)
    right, false_fails, onset_errors, spikes_found, spikes_total = 0, 0, [], 0, 0
    for name in names:
        label = LABELS[name]
        (run,) = losstest.analyze(DATA / name).runs
        found = method(run)
        verdict = run.verdict if method is ours else verdict_of(found)
        right += verdict == label["verdict"]
        false_fails += label["verdict"] in HEALTHY and verdict == "fail"
        expected = set(label["kinds"])
        for kind in KINDS:
            got = bool(found.get(kind))
            tp[kind] += got and kind in expected
            fp[kind] += got and kind not in expected
            fn[kind] += not got and kind in expected
        length = max(run.last_step or 1, 1)
        if "onset" in label and found.get(label["kinds"][0]):
            onset_errors.append(abs(min(found[label["kinds"][0]]) - label["onset"]) / length)
        if "spikes" in label:
            interval = int(np.median(np.diff(run.curves.train.step)))
            got = found.get("spike", [])
            spikes_total += len(label["spikes"])
            spikes_found += sum(
                any(abs(g - s) <= 2 * interval for g in got) for s in label["spikes"]
            )
    return {
        "runs": len(names), "verdict_accuracy": right / len(names), "false_fails": false_fails,
        "tp": tp, "fp": fp, "fn": fn, "spikes": (spikes_found, spikes_total),
        "onset_error": float(np.median(onset_errors)) if onset_errors else None,
    }  # fmt: skip


def show(title: str, ours_result: dict, base: dict) -> None:
    print(f"\n{title}: {ours_result['runs']} runs")
    print(f"{'':14}{'losstest':>22}{'naive baseline':>22}")
    for kind in KINDS:
        cells = []
        for r in (ours_result, base):
            tp, fp, fn = r["tp"][kind], r["fp"][kind], r["fn"][kind]
            precision = f"{tp / (tp + fp):.2f}" if tp + fp else "  - "
            recall = f"{tp / (tp + fn):.2f}" if tp + fn else "  - "
            cells.append(f"P {precision} R {recall}")
        print(f"{kind:14}{cells[0]:>22}{cells[1]:>22}")
    for key, fmt in (
        ("verdict_accuracy", "{:.0%}"),
        ("false_fails", "{}"),
        ("onset_error", "{:.1%}"),
    ):
        values = [fmt.format(r[key]) if r[key] is not None else "-" for r in (ours_result, base)]
        print(f"{key:14}{values[0]:>22}{values[1]:>22}")
    spikes = [f"{r['spikes'][0]}/{r['spikes'][1]}" for r in (ours_result, base)]
    print(f"{'spikes found':14}{spikes[0]:>22}{spikes[1]:>22}")


def invariance(names: list[str]) -> int:
    """Runs whose finding kinds change when the loss is multiplied by 1000 or only every 10th
    step is kept."""
    changed = 0
    for name in names:
        frame = losstest.load(DATA / name)
        base = {f.kind for r in losstest.analyze(frame).runs for f in r.findings}
        scaled = frame.copy()
        scaled["value"] = scaled["value"] * 1000
        tenth = frame[frame["step"] % 10 == 0]
        for variant, label in ((scaled, "x1000"), (tenth, "every 10th step")):
            kinds = {f.kind for r in losstest.analyze(variant).runs for f in r.findings}
            if kinds != base and len(tenth) > 50:
                changed += 1
                print(f"  {name} {label}: {sorted(kinds)} instead of {sorted(base)}")
    return changed


def main() -> int:
    names = [n for n in LABELS if not n.startswith("_") and (DATA / n).exists()]
    held_out = [n for n in names if LABELS[n].get("holdout")]
    show("All labeled runs", evaluate(names, ours), evaluate(names, naive))
    show("Held out of tuning", evaluate(held_out, ours), evaluate(held_out, naive))
    print("\nInvariance (same kinds when x1000 or logged every 10th step):")
    changed = invariance(names)
    print(f"  {len(names) - changed} of {len(names)} runs unchanged")
    result = evaluate(names, ours)
    return 0 if result["verdict_accuracy"] >= 0.95 and result["false_fails"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
