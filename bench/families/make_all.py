"""`make families`: train every run of the family scripts (two at a time), copy their logs into
tests/data/families/<run>/ and write tests/data/families/labels.json.

    python bench/families/make_all.py [--out bench/out/families] [--data tests/data/families]
        [--only NAME ...] [--jobs 2] [--no-train]

Each run's label comes from how it was made (the script's table) and is checked against the
numbers the run produced; a disagreement is printed and the command exits 1. Held-out runs are
drawn once, with a fixed seed, among runs that have no held_out decision yet, except a batch
made wholly held out (`Run.batch`: batches 3 and 4), whose runs are all held out; a run marked
`tuned` (a check was tuned on it) is never held out again.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPTS = ("torch_runs", "keras_runs", "lightning_runs", "hf_runs")
NOT_LOGS = {"label.json", "curves.json", "trainer"}  # the driver's notes; the Trainer's scratch
CHUNK = 6
HELD_OUT_SEED = 13

ABOUT = (
    "Expected verdicts of real training runs of several model families through several "
    "writers (bench/families; how each was made: SOURCES.md). Each label comes from how the "
    "run was made (reason) and was checked against the numbers it produced (measured). "
    "verdict: pass | warn | fail | problem (no loss metric: must not pass). kinds: the warn/fail "
    "finding kinds expected. held_out: drawn at random with a fixed seed before any check was "
    "scored on the run. batch: 3 or 4 marks the runs made as one batch wholly held out, trained "
    "and labeled before losstest scored any of them (none of them drawn). Rule: a run "
    "ever used to tune a check gets tuned: true and is never held out again."
)


def runs_of(script: str) -> list:
    sys.path.insert(0, str(HERE))
    return importlib.import_module(script).RUNS


def train(script: str, names: list[str], out: Path) -> str:
    command = [sys.executable, str(HERE / f"{script}.py"), str(out), "--only", *names]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{script} {names}: {done.stderr[-3000:]}")
    return "\n".join(line for line in done.stdout.splitlines() if line.split(":")[0] in names)


def copy_logs(source: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for item in source.iterdir():
        if item.name in NOT_LOGS:
            continue
        if item.is_dir():
            shutil.copytree(item, target / item.name)
        else:
            shutil.copy2(item, target / item.name)


def rounded(value):
    return round(value, 4) if isinstance(value, float) else value


def write_labels(data: Path, out: Path, runs: list) -> list[str]:
    """Each run's label from the scripts' tables, with the numbers measured when it trained."""
    path = data / "labels.json"
    labels = json.loads(path.read_text()) if path.exists() else {}
    labels.pop("_about", None)
    disagreements = []
    for run in runs:
        name = run.name
        measured = json.loads((out / name / "label.json").read_text())["measured"]
        label = {"family": run.family, "writer": run.writer, "verdict": run.verdict,
                 "kinds": list(run.kinds), "reason": run.reason,
                 "measured": {k: rounded(v) for k, v in measured.items()}}  # fmt: skip
        old = labels.get(name, {})
        if run.batch:  # a batch made wholly held out
            label |= {"batch": run.batch, "held_out": True}
        for key in ("held_out", "tuned"):
            if key in old:
                label[key] = old[key]
        labels[name] = label
        sys.path.insert(0, str(HERE))
        from common import disagreements as check

        disagreements += [f"{name}: {problem}" for problem in check(label)]
    undecided = sorted(n for n, label in labels.items() if "held_out" not in label)
    chosen = set(random.Random(HELD_OUT_SEED).sample(undecided, round(len(undecided) / 3)))
    for name in undecided:
        labels[name]["held_out"] = name in chosen
    for label in labels.values():
        if label.get("tuned"):
            label["held_out"] = False
    ordered = {"_about": ABOUT, **{n: labels[n] for n in sorted(labels)}}
    path.write_text(json.dumps(ordered, indent=1) + "\n")
    return disagreements


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "families")
    parser.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "families")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--no-train", action="store_true", help="copy and label the runs already in --out"
    )
    args = parser.parse_args()
    jobs, runs = [], []
    for script in SCRIPTS:
        chosen = [r for r in runs_of(script) if not args.only or r.name in args.only]
        runs += chosen
        names = [r.name for r in chosen]
        jobs += [(script, names[i : i + CHUNK]) for i in range(0, len(names), CHUNK)]
    if args.no_train:
        jobs = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for report in pool.map(lambda job: train(*job, args.out), jobs):
            print(report, flush=True)
    for run in runs:
        copy_logs(args.out / run.name, args.data / run.name)
    disagreements = write_labels(args.data, args.out, runs)
    for line in disagreements:
        print(f"label and numbers disagree: {line}")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
