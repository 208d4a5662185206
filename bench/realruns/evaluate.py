"""`make eval`: losstest's verdicts on the labeled real runs, against a naive baseline, per
finding kind and overall, for all runs and for the held-out ones; then on the second labeled
set, tests/data/families (other model families through other writers, bench/families), per
model family, per writer, held-out runs apart, with the runs losstest could not read.

Held out means: drawn before any check was scored on the run, and not added by a commit that
also changed the checks (such a run is reported, and scored as not held out). Each run's
commit is the one that added its file (git log --diff-filter=A).

The exit status is the first set's targets (accuracy >= 95 %, no false fail); the second set
is reported only, until the checks are reworked for it.

    python bench/realruns/evaluate.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import numpy as np

import losstest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
LABELS = json.loads((Path(__file__).parent / "labels.json").read_text())
FAMILIES = DATA / "families"
CHECK_CODE = ("losstest/checks", "losstest/detectors", "losstest/rules.py", "losstest/curves.py",
              "losstest/signal.py")  # fmt: skip
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
            try:
                kinds = {f.kind for r in losstest.analyze(variant).runs for f in r.findings}
            except losstest.InputError:  # every 10th step kept none of the loss's steps
                continue
            if kinds != base and len(tenth) > 50:
                changed += 1
                print(f"  {name} {label}: {sorted(kinds)} instead of {sorted(base)}")
    return changed


@cache
def commit_that_added(path: Path) -> str | None:
    """The first commit that added the file (or any file under the directory)."""
    log = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", str(path.relative_to(ROOT))],
        cwd=ROOT, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    return log[-1] if log else None


@cache
def changed_checks(commit: str) -> bool:
    changed = subprocess.run(
        ["git", "show", "--format=", "--name-only", commit, "--", *CHECK_CODE],
        cwd=ROOT, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    return bool(changed)


def held_out(label: dict, path: Path) -> bool:
    """Labeled held out, never tuned on, and not added together with a change to the checks."""
    if not (label.get("held_out") or label.get("holdout")) or label.get("tuned"):
        return False
    commit = commit_that_added(path)
    return commit is None or not changed_checks(commit)


def outcome(path: Path) -> tuple[str, set[str]]:
    """losstest's verdict on the run at path ('not read' when it exits 2 on it) and the kinds
    it reports as warn or fail."""
    try:
        report = losstest.analyze(path)
    except losstest.InputError:
        return "not read", set()
    if not report.runs:
        return "not read", set()
    order = ("pass", "warn", "fail")
    verdict = max((run.verdict for run in report.runs), key=order.index)
    kinds = {f.kind for run in report.runs for f in run.findings if f.severity != "info"}
    return verdict, kinds


def right(expected: str, got: str) -> bool:
    """A run with no loss metric must end in a problem (exit 2) or a fail, never pass."""
    if expected == "problem":
        return got in ("not read", "fail")
    return expected == got


def accuracy_table(title: str, rows: dict[str, list[bool]]) -> None:
    print(f"\n{title:24}{'runs':>6}{'right':>7}{'accuracy':>10}")
    for key in sorted(rows):
        hits = rows[key]
        print(f"{key:24}{len(hits):6}{sum(hits):7}{sum(hits) / len(hits):10.0%}")


def evaluate_families() -> None:
    labels = json.loads((FAMILIES / "labels.json").read_text())
    runs = {n: label for n, label in labels.items() if not n.startswith("_")}
    by_family, by_writer, by_split = defaultdict(list), defaultdict(list), defaultdict(list)
    tp, fp, fn = Counter(), Counter(), Counter()
    not_read, wrong, false_fails, dubious = [], [], [], []
    for name, label in sorted(runs.items()):
        path = FAMILIES / name
        got, kinds = outcome(path)
        hit = right(label["verdict"], got)
        by_family[label["family"]].append(hit)
        by_writer[label["writer"]].append(hit)
        split = "held out" if held_out(label, path) else "not held out"
        by_split[split].append(hit)
        if label.get("held_out") and split == "not held out":
            dubious.append(name)
        if got == "not read" and label["verdict"] != "problem":
            not_read.append(name)
        if label["verdict"] == "pass" and got == "fail":
            false_fails.append(name)
        if not hit:
            wrong.append(f"{name}: expected {label['verdict']} {label['kinds']}, got {got} "
                         f"{sorted(kinds)}")  # fmt: skip
        if got != "not read":
            expected = set(label["kinds"])
            for kind in expected | kinds:
                tp[kind] += kind in expected and kind in kinds
                fp[kind] += kind in kinds and kind not in expected
                fn[kind] += kind in expected and kind not in kinds
    total = [hit for hits in by_family.values() for hit in hits]
    print(f"\nSecond labeled set (tests/data/families): {len(runs)} runs, "
          f"{sum(total)} right ({sum(total) / len(total):.0%})")  # fmt: skip
    accuracy_table("model family", by_family)
    accuracy_table("writer", by_writer)
    accuracy_table("held out of tuning", by_split)
    if dubious:
        print(f"  labeled held out but added with a change to the checks: {', '.join(dubious)}")
    healthy = sum(label["verdict"] == "pass" for label in runs.values())
    print(f"\nfalse fails on healthy runs: {len(false_fails)} of {healthy}"
          + (f" ({', '.join(false_fails)})" if false_fails else ""))  # fmt: skip
    print(f"\n{'kind':14}{'precision':>10}{'recall':>8}   (runs that were read)")
    for kind in sorted(tp.keys() | fp.keys() | fn.keys()):
        precision = f"{tp[kind] / (tp[kind] + fp[kind]):.2f}" if tp[kind] + fp[kind] else "-"
        recall = f"{tp[kind] / (tp[kind] + fn[kind]):.2f}" if tp[kind] + fn[kind] else "-"
        print(f"{kind:14}{precision:>10}{recall:>8}")
    print(f"\nruns not read (losstest exits 2 on them): {len(not_read)}")
    for name in not_read:
        print(f"  {name} ({runs[name]['writer']})")
    print(f"\nwrong verdicts: {len(wrong)}")
    for line in wrong:
        print(f"  {line}")


def main() -> int:
    names = [n for n in LABELS if not n.startswith("_") and (DATA / n).exists()]
    held_out_names = [n for n in names if held_out(LABELS[n], DATA / n)]
    dubious = [n for n in names if LABELS[n].get("holdout") and n not in held_out_names]
    show("All labeled runs", evaluate(names, ours), evaluate(names, naive))
    show("Held out of tuning", evaluate(held_out_names, ours), evaluate(held_out_names, naive))
    if dubious:
        print(f"  labeled held out but added with a change to the checks: {', '.join(dubious)}")
    print("\nInvariance (same kinds when x1000 or logged every 10th step):")
    changed = invariance(names)
    print(f"  {len(names) - changed} of {len(names)} runs unchanged")
    if (FAMILIES / "labels.json").exists():
        evaluate_families()
    result = evaluate(names, ours)
    return 0 if result["verdict_accuracy"] >= 0.95 and result["false_fails"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
