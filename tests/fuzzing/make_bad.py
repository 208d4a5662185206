"""Writes the generated regression inputs of tests/data/bad/ from the real logs they damage
(inputs kept as found by the fuzzer are written by hand, not here). Rerun after changing a case:

    python tests/fuzzing/make_bad.py
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "data" / "bad"
HEALTHY = (ROOT / "tests" / "data" / "realruns" / "healthy_every10.jsonl").read_bytes()
LINES = HEALTHY.splitlines(keepends=True)
LIGHTNING = ROOT / "tests" / "data" / "corpus" / "dl-fundamentals" / "6.8-debugging" / "version_6"
CSV_LINES = (LIGHTNING / "metrics.csv").read_bytes().splitlines(keepends=True)
WHISPER = (
    ROOT / "tests" / "data" / "corpus" / "whisper-large-v2-ja" / "trainer_state.json"
).read_bytes()
KERAS = (ROOT / "tests" / "data" / "keras" / "history.json").read_bytes()
MLFLOW_RUN = (
    ROOT / "tests" / "data" / "mlflow" / "mlruns" / "0" / "e060ed8aefbc4048ba5e3a4d52371e7e"
)
VAL_LOSS = (MLFLOW_RUN / "metrics" / "val_loss").read_bytes().splitlines(keepends=True)
SPIKES = (ROOT / "tests" / "data" / "realruns_csv" / "spikes.csv").read_bytes().splitlines(True)


def bomb(megabytes: int) -> bytes:
    """A .jsonl.gz of real records followed by megabytes of blanks: inflates a thousandfold."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [deflate.compress(b"".join(LINES[:20]))]
    parts += [deflate.compress(b" " * (1 << 20)) for _ in range(megabytes)]
    return b"".join(parts) + deflate.flush()


def with_keys(data: bytes, at: int, keys: int) -> bytes:
    """Keys added to the JSON object that opens at `at`."""
    return data[: at + 1] + b"".join(b'"k%d": 1, ' % k for k in range(keys)) + data[at + 1 :]


def damaged_deflate() -> bytes:
    data = bytearray(gzip.compress(HEALTHY, mtime=0))
    data[10] ^= 0xFF  # the first byte of the deflate stream
    return bytes(data)


CASES = {
    "corrupt_header.jsonl.gz": b"\x1f\x8b\x07\x00",
    "damaged_deflate.jsonl.gz": damaged_deflate(),
    "inflates_past_limit.jsonl.gz": bomb(80),
    "deep_history.json": b'{"loss": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    "deep_first_line.jsonl": b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}\n" + b"".join(LINES[:10]),
    "deep_middle_line.jsonl": b"".join(LINES[:50])
    + b'{"step": 1, "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}\n"
    + b"".join(LINES[50:100]),
    "wide_record.jsonl": b"".join(LINES[:50])
    + json.dumps({f"k{i}": 1.0 for i in range(20_000)}).encode() + b"\n"
    + b"".join(LINES[50:100]),
    "distinct_keys.jsonl": b"".join(
        json.dumps({"step": i, f"k{i}": 1.0}).encode() + b"\n" for i in range(12_000)
    ),
    "wandb_blank_run_name.csv": b"Step,a - loss,  - loss\n1,2,3\n2,3,4\n",
    "empty/metrics.jsonl": b"",
    "binary/metrics.jsonl": bytes(range(256)) * 4,
    "no_records/training.log": b"Loading model...\nRuntimeError: CUDA out of memory\n",
    "long_token.log": b"step 1 loss 2.0\nstep 2 loss 1.5\nstep 3 " + b"a" * 16_384 + b" loss 1.0\n",
    "wide_row.csv.gz": gzip.compress(
        CSV_LINES[0] + b"0.602088153362274," * 9_000 + b"0.5\r\n" + b"".join(CSV_LINES[1:6]), mtime=0
    ),
    "long_cell.csv.gz": gzip.compress(
        b"".join(SPIKES[:400]) + b"399,2.0,4e-05," + b"a" * 40_000 + b"\n" + b"".join(SPIKES[400:]),
        mtime=0,
    ),
    "wide_history.json": with_keys(WHISPER, WHISPER.find(b"{", WHISPER.find(b"log_history")), 12_500),
    "many_series_history.json": KERAS.rstrip()[:-1]
    + b"".join(b', "k%d": [1.0, 2.0]' % k for k in range(5_000))
    + b"}",
    "mlflow_wide_line/meta.yaml": (MLFLOW_RUN / "meta.yaml").read_bytes(),
    "mlflow_wide_line/metrics/val_loss": VAL_LOSS[0].rstrip() + b" 1" * 17_000 + b"\n"
    + b"".join(VAL_LOSS[1:]),
}  # fmt: skip

if __name__ == "__main__":
    for name, data in CASES.items():
        (BAD / name).parent.mkdir(parents=True, exist_ok=True)
        (BAD / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")
