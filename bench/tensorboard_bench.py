"""TensorBoard in `make bench`: `losstest analyze` end to end against tbparse's `.scalars`, every
value compared bit for bit, and time and peak memory as the file grows (bench/TENSORBOARD.md).

The event files hold the standard scalar layout of torch's and TF1's writers: per step one event
of wall time, step and a summary of four `simple_value`s. They are put together with numpy (the
protobuf classes take 30 s per million steps); tbparse, which reads them through tensorboard's
own loader, is the check that they are what a writer makes.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PY = sys.executable
TAGS = (b"loss", b"lr", b"grad_norm", b"tokens")
TARGET = 35.0  # times faster than tbparse, end to end


def _framed(payloads: np.ndarray) -> np.ndarray:
    """TFRecords (length, masked CRC of it, payload, masked CRC of it) of equal-length rows."""
    from losstest.readers.tensorboard import masked_crc

    count, width = payloads.shape
    head = struct.pack("<Q", width)
    rows = np.empty((count, width + 16), dtype=np.uint8)
    rows[:, :8] = np.frombuffer(head, dtype=np.uint8)
    rows[:, 8:12] = np.frombuffer(struct.pack("<I", masked_crc(head)), dtype=np.uint8)
    rows[:, 12:-4] = payloads
    crcs = np.fromiter((masked_crc(row.tobytes()) for row in payloads), np.uint32, count)
    rows[:, -4:] = crcs.astype("<u4").view(np.uint8).reshape(count, 4)
    return rows


def _varints(values: np.ndarray, width: int) -> np.ndarray:
    shifts = 7 * np.arange(width, dtype=np.uint64)
    out = ((values[:, None].astype(np.uint64) >> shifts) & 0x7F).astype(np.uint8)
    out[:, :-1] |= 0x80
    return out


def event_file(steps: int, out: Path, curve) -> Path:
    """A run of `steps` events of four scalars each (generated once, kept under bench/out)."""
    folder = out / f"tb_{steps}x4"
    path = folder / "events.out.tfevents.1700000000.bench.1.0"
    if path.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    step = np.arange(steps, dtype=np.int64)
    columns = (curve(steps), np.full(steps, 3e-4), 1 + step % 7 / 10, step * 512.0)
    template = b"".join(b"\x0a" + bytes([len(t) + 7, 0x0A, len(t)]) + t + b"\x15" + bytes(4)
                        for t in TAGS)  # fmt: skip
    summary = np.tile(np.frombuffer(template, dtype=np.uint8), (steps, 1))
    at = 0
    for tag, column in zip(TAGS, columns, strict=True):
        at += 4 + len(tag) + 1
        summary[:, at : at + 4] = column.astype("<f4").view(np.uint8).reshape(steps, 4)
        at += 4
    with path.open("wb") as f:
        version = b"\x09" + struct.pack("<d", 1.7e9) + b"\x1a\x0dbrain.Event:2"
        f.write(_framed(np.frombuffer(version, dtype=np.uint8)[None, :]).tobytes())
        for width in range(1, 10):  # events grouped by the width of their step's varint
            chosen = step[(step >= (1 << (7 * (width - 1))) if width > 1 else True)
                          & (step < (1 << (7 * width)))]  # fmt: skip
            if not len(chosen):
                continue
            wall = (1.7e9 + chosen).astype("<f8").view(np.uint8).reshape(-1, 8)
            payload = np.concatenate([
                np.full((len(chosen), 1), 0x09, np.uint8), wall,
                np.full((len(chosen), 1), 0x10, np.uint8), _varints(chosen, width),
                np.tile(np.array([0x2A, len(template)], np.uint8), (len(chosen), 1)),
                summary[chosen],
            ], axis=1)  # fmt: skip
            f.write(_framed(payload).tobytes())
    return folder


# Runs `python -m losstest ...` and prints its own peak memory (VmHWM, which starts afresh at
# exec; ru_maxrss would keep the bench's own size, inherited at fork).
MEASURED = """
import resource, runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_module("losstest", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
usage = resource.getrusage(resource.RUSAGE_SELF)
print(int(peak.split()[1]) / 1024, usage.ru_utime + usage.ru_stime, file=sys.stderr)
"""


def _run(command: list[str]) -> tuple[float, ...]:
    """Wall time of a fresh process, and the numbers it printed last on standard error (peak
    memory in MB and CPU seconds under MEASURED; tbparse's own time in the tbparse script)."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{command} exited with {done.returncode}: {done.stderr[-500:]}")
    return took, *map(float, done.stderr.strip().splitlines()[-1].split())


def analyze_command(folder: Path) -> list[str]:
    return [PY, "-c", MEASURED, "losstest", "analyze", str(folder), "--format", "json"]


def same_as_tbparse(folder: Path, npz: Path) -> str:
    """'' if every scalar losstest reads is bit-equal to tbparse's, else what differs."""
    import losstest

    frame = losstest.load(folder)
    theirs = np.load(npz)
    for tag in (t.decode() for t in TAGS):
        ours = frame[frame["metric"] == tag]
        chosen = theirs["tag"] == tag
        if not np.array_equal(ours["step"].to_numpy(), theirs["step"][chosen]):
            return f"steps of {tag} differ"
        bits = theirs["value"][chosen].astype(np.float64).view(np.int64)
        if not np.array_equal(ours["value"].to_numpy().view(np.int64), bits):
            return f"values of {tag} differ"
    return "" if len(frame) == len(theirs["tag"]) else "counts differ"


def bench_against_tbparse(steps: int, out: Path, curve, verdict) -> None:
    """The target is judged on CPU time: both sides run on one core, and on a shared machine
    the wall time of a 3-minute tbparse run and of a 1-second losstest run see different loads
    (wall times are printed beside). losstest runs before and after tbparse; the best counts."""
    folder = event_file(steps, out, curve)
    npz = out / f"tbparse_{steps}x4.npz"
    script = (
        "import sys, time, numpy as np; from tbparse import SummaryReader; "
        "t, c = time.perf_counter(), time.process_time(); "
        f"df = SummaryReader({str(folder)!r}).scalars; "
        "took, cpu = time.perf_counter() - t, time.process_time() - c; "
        f"np.savez({str(npz)!r}, step=df['step'].to_numpy(), tag=df['tag'].to_numpy(str), "
        "value=df['value'].to_numpy()); print(took, cpu, file=sys.stderr)"
    )
    ours = [_run(analyze_command(folder)) for _ in range(2)]
    try:
        _, theirs_wall, theirs_cpu = _run([PY, "-c", script])
    except RuntimeError:
        print(f"----  TensorBoard {steps:,} steps x 4: losstest {ours[0][0]:.2f} s; no tbparse")
        return
    ours.append(_run(analyze_command(folder)))
    wall, cpu = min(run[0] for run in ours), min(run[2] for run in ours)
    differs = same_as_tbparse(folder, npz)
    verdict(
        f"TensorBoard {steps:,} steps x 4 scalars, analyze end to end",
        theirs_cpu >= TARGET * cpu and not differs,
        f"CPU: losstest {cpu:.2f} s (fresh process, start-up included), tbparse .scalars "
        f"{theirs_cpu:.1f} s: {theirs_cpu / cpu:.1f}x (target >= {TARGET:.0f}x); wall: "
        f"{wall:.2f} s and {theirs_wall:.1f} s ({theirs_wall / wall:.1f}x); "
        f"bit-equal to tbparse: {differs or 'yes'}",
    )


def bench_growth(steps_list: list[int], out: Path, curve) -> None:
    """Time and peak memory of `analyze` as the run grows: they should grow linearly."""
    print("----  TensorBoard growth (analyze end to end, fresh process):")
    for steps in steps_list:
        folder = event_file(steps, out, curve)
        size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
        took, rss, cpu = min(_run(analyze_command(folder)) for _ in range(2))
        print(f"      {4 * steps / 1e6:5.1f}M scalars ({size:4.0f} MB): {took:5.2f} s "
              f"({cpu:5.2f} s CPU), peak RSS {rss:5.0f} MB")  # fmt: skip
