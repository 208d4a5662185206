"""`make bench`: speed targets of losstest, measured side by side with the reference readers.

    python bench/run.py [--quick]

Each target prints the figures it compares and PASS or MISS; the exit code is 1 if a target
was missed. Files are generated under bench/out/ (git-ignored) on first use.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tensorboard_bench

OUT = Path(__file__).parent / "out"
PY = sys.executable
RESULTS: list[bool] = []


def load() -> str:
    """The load average now: other work on the cores skews every wall time beside it."""
    return f"load {os.getloadavg()[0]:.1f}"


def verdict(name: str, ok: bool, detail: str) -> None:
    RESULTS.append(ok)
    print(f"{'PASS' if ok else 'MISS'}  {name}: {detail}; {load()}")


def curve(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 3 + 8 * np.exp(-np.arange(n) / (n / 20)) + 0.1 * rng.standard_normal(n)


def jsonl_file(n: int) -> Path:
    """n train rows as Python's json writes them, an eval-only row every 100 steps, and a
    metric first written at 90 % of the run (a reader that samples the head loses it)."""
    path = OUT / f"run_{n}.jsonl"
    if not path.exists():
        loss, late = curve(n).tolist(), int(n * 0.9)
        with path.open("w") as f:
            for start in range(0, n, 1_000_000):
                lines = []
                for i in range(start, min(n, start + 1_000_000)):
                    extra = f', "tokens_per_s": {loss[i] * 1000!r}' if i >= late else ""
                    lines.append(
                        f'{{"step": {i}, "loss": {loss[i]!r}, "lr": 0.0003, '
                        f'"grad_norm": {1.0 + i % 7 / 10!r}{extra}}}\n'
                    )
                    if i % 100 == 0:
                        lines.append(f'{{"step": {i}, "val_loss": {loss[i] + 0.05!r}}}\n')
                f.write("".join(lines))
    return path


def csv_file(n: int) -> Path:
    path = OUT / f"run_{n}.csv"
    if not path.exists():
        loss = curve(n).tolist()
        with path.open("w") as f:
            f.write("step,loss,lr,grad_norm,val_loss\n")
            for start in range(0, n, 1_000_000):
                f.write(
                    "".join(
                        f"{i},{loss[i]!r},0.0003,{1.0 + i % 7 / 10!r},"
                        f"{repr(loss[i] + 0.05) if i % 100 == 0 else ''}\n"
                        for i in range(start, min(n, start + 1_000_000))
                    )
                )
    return path


# Runs a command and prints its wall time, peak RSS and CPU time. A child's peak RSS counts
# what its parent held when it started, so the command is started from this small process,
# never from the bench itself.
MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
took = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(code, took, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
"""


def run_measured(
    command: list[str], ok: tuple[int, ...] = (0,), times: int = 3
) -> tuple[float, float, float]:
    """Wall time, peak RSS (MB) and CPU seconds of a fresh process: the run of median wall
    time of `times`. CPU time says the same thing less noisily where other work shares the
    cores."""
    runs = []
    for _ in range(times):
        out = subprocess.run([PY, "-c", MEASURE, *command], capture_output=True, text=True)
        code, took, peak, cpu = out.stdout.split()
        if int(code) not in ok:
            raise RuntimeError(f"{command} exited {code}")
        runs.append((float(took), float(peak), float(cpu)))
    return sorted(runs)[len(runs) // 2]


def bench_scaling(kind: str, files: list[Path], reader: str, target: float) -> None:
    """losstest analyze against one reader alone, each in a fresh process, at each size; the
    largest size carries the target (a ratio of the two times) and peak RSS < 2 GB."""
    print(f"----  {kind}: losstest analyze vs {reader.format(path='PATH')} alone")
    print(
        f"      {'rows':>10} {'MB':>6} {'reader s':>9} {'cpu s':>6} {'MB':>6} "
        f"{'losstest s':>11} {'cpu s':>6} {'MB':>6}"
    )
    for path in files:
        theirs, their_rss, their_cpu = run_measured([PY, "-c", reader.format(path=str(path))])
        ours, our_rss, our_cpu = run_measured(
            [PY, "-m", "losstest", "analyze", str(path), "-f", "json"], ok=(0, 1)
        )
        rows = int(path.stem.rsplit("_", 1)[1])
        size = path.stat().st_size / 1e6
        print(
            f"      {rows:>10,} {size:>6.0f} {theirs:>9.2f} {their_cpu:>6.2f} {their_rss:>6.0f} "
            f"{ours:>11.2f} {our_cpu:>6.2f} {our_rss:>6.0f}   ratio {ours / theirs:.2f} "
            f"(cpu {our_cpu / their_cpu:.2f}); {load()}"
        )
    verdict(
        f"{kind} {rows:,} rows",
        ours <= target * theirs and our_rss < 2000,
        f"analyze {ours:.2f} s vs reader {theirs:.2f} s = {ours / theirs:.2f}x "
        f"(target <= {target}x); peak RSS {our_rss:.0f} MB (target < 2000 MB)",
    )


def bench_jsonl_exact(path: Path) -> None:
    """Every value losstest reads from the JSONL, late key and eval rows included, is the one
    pyarrow reads."""
    import pyarrow.compute as pc
    import pyarrow.json as pajson

    import losstest

    frame = losstest.load(path)
    table = pajson.read_json(path)
    step = table.column("step").to_numpy()
    same = True
    for name in table.column_names[1:]:
        present = pc.is_valid(table.column(name)).to_numpy(zero_copy_only=False)
        rows = frame[frame["metric"] == name]
        values = table.column(name).to_numpy(zero_copy_only=False)[present]
        same &= np.array_equal(rows["step"].to_numpy(), step[present])
        same &= rows["value"].to_numpy().view(np.int64).tolist() == values.view(np.int64).tolist()
    metrics = list(frame["metric"].cat.categories)
    verdict(f"JSONL {path.name} read exactly", same, f"every value of {metrics} as pyarrow's")


def bench_startup() -> None:
    small = Path(__file__).parents[1] / "sample_logs" / "healthy.jsonl"
    pandas, _, pandas_cpu = run_measured([PY, "-c", "import pandas"], times=5)
    ours, _, our_cpu = run_measured(
        [PY, "-m", "losstest", "analyze", str(small)], ok=(0, 1), times=5
    )
    version, _, _ = run_measured([PY, "-m", "losstest", "--version"])
    verdict(
        f"analyze {small.name} (start-up)",
        ours <= 1.3 * pandas,
        f"{ours:.2f} s vs python -c 'import pandas' {pandas:.2f} s = {ours / pandas:.2f}x "
        f"(target <= 1.3x; cpu {our_cpu:.2f} s vs {pandas_cpu:.2f} s); --version {version:.2f} s",
    )


def bench_analysis(n: int) -> None:
    """The detector suite over one curve of n points: the median of three calls, after one on
    a short curve (imports and first-call set-up are start-up's, measured above)."""
    import losstest
    from losstest.frame import long_frame, single

    loss = curve(n)
    loss[n // 3] *= 3
    frame = long_frame(np.array(["loss"], dtype=object).repeat(n), np.arange(n), loss, run="r")
    frame.insert(0, "source", single("bench", n))
    losstest.analyze(frame.head(1000))
    took = []
    for _ in range(3):
        start = time.perf_counter()
        report = losstest.analyze(frame)
        took.append(time.perf_counter() - start)
    kinds = [f.kind for f in report.runs[0].findings]
    verdict(
        f"analysis of {n:,} points",
        statistics.median(took) < 0.5 and "spike" in kinds,
        f"{statistics.median(took):.2f} s (median of {', '.join(f'{t:.2f}' for t in took)}; "
        f"target < 0.5 s); found {kinds}",
    )
    from losstest.reporters import RenderOptions, emit

    start = time.perf_counter()
    emit(report, [("png", OUT / "big.png")], RenderOptions())
    took = time.perf_counter() - start
    verdict(f"plot of {n:,} points", took < 2, f"{took:.2f} s (target < 2 s)")


def sweep_dir(runs: int, steps: int) -> Path:
    import pandas as pd

    folder = OUT / f"sweep_{runs}x{steps}"
    if not (folder / f"run{runs - 1}").exists():
        t = np.arange(steps)
        for i in range(runs):
            if (folder / f"run{i}").exists():  # written by a generation that was cut short
                continue
            lr = (1e-4, 3e-4, 1e-3, 3e-3)[i % 4]
            loss = curve(steps, seed=i) * (1 + 10 * lr)
            if i % 10 == 9:
                loss[steps // 2 :] *= np.linspace(1, 5, steps - steps // 2)  # some diverge
            run = folder / f"run{i}_lr={lr:g}_seed={i // 4}"
            run.mkdir(parents=True, exist_ok=True)
            frame = pd.DataFrame({"step": t, "loss": loss, "lr": lr})
            frame.to_json(run / "metrics.jsonl", orient="records", lines=True)
            (folder / f"run{i}").touch()
    return folder


COMPARE = """
import resource, sys, time
from losstest.compare import compare
start = time.perf_counter()
c = compare([sys.argv[1]], by=["lr"])
took = time.perf_counter() - start
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(took, own, worker, len(c.runs), sum(r.verdict == "fail" for r in c.runs))
"""


def bench_compare(sizes: list[int], steps: int, targets: dict[int, float]) -> None:
    """`compare` over sweeps of growing size, each in a fresh process: time, and the peak RSS
    of the comparing process and of its largest worker, which must not grow with the runs."""
    print(f"----  compare: runs x {steps:,} steps, by lr")
    print(f"      {'runs':>7} {'s':>7} {'ms/run':>7} {'MB':>6} {'worker MB':>10}")
    peaks = []
    for runs in sizes:
        folder = sweep_dir(runs, steps)
        out = subprocess.run(
            [PY, "-c", COMPARE, str(folder)], check=True, capture_output=True, text=True
        ).stdout.split()
        took, own, worker = map(float, out[:3])
        count, failed = int(out[3]), int(out[4])
        peaks.append(own)
        print(
            f"      {runs:>7,} {took:>7.1f} {took / runs * 1000:>7.1f} {own:>6.0f} "
            f"{worker:>10.0f}   {count} runs, {failed} failed; {load()}"
        )
        if runs in targets:
            verdict(f"compare {runs:,} runs x {steps:,} steps", took < targets[runs],
                    f"{took:.1f} s (target < {targets[runs]:.0f} s)")  # fmt: skip
    verdict(
        f"compare peak RSS flat from {sizes[0]:,} to {sizes[-1]:,} runs",
        peaks[-1] < 1.5 * peaks[0],
        f"{peaks[0]:.0f} -> {peaks[-1]:.0f} MB (target: under 1.5x)",
    )


def bench_monitor(steps: int) -> None:
    from losstest import Monitor

    loss = curve(steps)
    monitor = Monitor()
    start = time.perf_counter()
    for step in range(steps):
        monitor.update(step, loss=float(loss[step]), lr=3e-4)
    took = (time.perf_counter() - start) / steps * 1e6
    kept = len(monitor._series["loss"].value)
    detail = f"{took:.0f} µs per update (target < 100 µs); history kept: {kept} values"
    verdict(f"Monitor.update over {steps:,} steps", took < 100, detail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller files, no TensorBoard")
    parser.add_argument(
        "--cluster-runs", type=int, help="runs for compare --cluster (default 10,000; quick 100)"
    )
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    rows = 100_000 if args.quick else 1_000_000
    sizes = [rows, 3 * rows, 10 * rows]
    bench_startup()
    jsonl = [jsonl_file(n) for n in sizes]
    bench_scaling("JSONL", jsonl, "import pyarrow.json as j; j.read_json({path!r})", 1.0)
    bench_scaling(
        "CSV", [csv_file(n) for n in sizes], "import pandas; pandas.read_csv({path!r})", 1.2
    )
    bench_jsonl_exact(jsonl[0])
    if not args.quick:
        tensorboard_bench.bench_against_tbparse(1_000_000, OUT, curve, verdict)
        tensorboard_bench.bench_growth([250_000, 750_000, 2_500_000], OUT, curve)
    bench_analysis(1_000_000 if args.quick else 10_000_000)
    sweeps = [100, 300] if args.quick else [1000, 3000, 10_000]  # 10,000: the cluster's too
    bench_compare(sweeps, 10_000, {} if args.quick else {1000: 15.0, 10_000: 180.0})
    bench_monitor(100_000 if args.quick else 1_000_000)
    from cluster import bench_cluster  # bench/cluster.py: moto, a scheduler, two workers

    # the scheduler unpickles cluster.py's functions by module name: it must find bench/ too
    here = [str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, here))

    runs = args.cluster_runs or (100 if args.quick else 10_000)
    bench_cluster(sweep_dir(runs, 10_000), runs)
    sys.exit(0 if all(RESULTS) else 1)


if __name__ == "__main__":
    main()
