"""Mutated real logs of every format, and the contract each read must keep: a frame and a
report, or InputErrors of one line naming the file, within a time and memory budget.

`LOSSTEST_FUZZ_EXAMPLES` sets the examples per format (a few hundred in the test suite;
`make fuzz` asks for many more). `LOSSTEST_FUZZ_LONG=1` (make fuzz; implied past 1,000
examples) takes a fresh seed each run, longer lines, and keeps going past an input that breaks
the contract: it is counted and kept under fuzz-found/, and the test fails at its end."""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import struct
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

import losstest
from losstest.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CORPUS = DATA / "corpus"
BAD = DATA / "bad"
SEED_BYTES = 8192  # line formats are cut to this many bytes of whole lines: quick examples
TIME_BUDGET_S = 5.0
RETIME_S = 1.0  # a call slower than this is timed twice, and the quicker time kept
MEMORY_BUDGET_MB = 1024
MAX_INPUT = 2 << 20

EXAMPLES = int(os.environ.get("LOSSTEST_FUZZ_EXAMPLES", "100"))
LONG = EXAMPLES > 1000 or os.environ.get("LOSSTEST_FUZZ_LONG") == "1"
KEEP_GOING = LONG  # make fuzz: tally every input, keep those that break something
FOUND = ROOT / "fuzz-found"
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not LONG,  # the test suite is reproducible; make fuzz explores
    deadline=None,  # the time budget is asserted per call, with a message saying which input
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
    # Shrinking a damaged log takes minutes; the recipe printed for a failure reproduces it.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def _head_lines_of(data: bytes, size: int) -> bytes:
    return data if len(data) <= size else data[: data.rfind(b"\n", 0, size) + 1]


def _head_lines(path: Path, size: int = SEED_BYTES, start: bytes = b"") -> bytes:
    """Whole lines, `size` bytes at most, from the line where `start` first appears."""
    data = path.read_bytes()
    return _head_lines_of(data[data.rfind(b"\n", 0, max(0, data.find(start))) + 1 :], size)


def _header_and_lines(path: Path, having: bytes, size: int = SEED_BYTES) -> bytes:
    """The header line and the lines holding `having` (a table sorted by tag holds its loss
    far from its head), `size` bytes at most."""
    header, *lines = path.read_bytes().splitlines(keepends=True)
    return _head_lines_of(header + b"".join(line for line in lines if having in line), size)


# Real files of each format (their origins in tests/data/corpus/SOURCES.md, tests/data/README).
SEEDS: dict[str, list[tuple[str, bytes]]] = {
    "jsonl": [
        ("metrics.jsonl", _head_lines(DATA / "realruns/healthy_every10.jsonl")),
        ("run.jsonl", _head_lines(DATA / "realruns/nan.jsonl")),
    ],
    "csv": [
        (
            "metrics.csv",
            (CORPUS / "dl-fundamentals/6.8-debugging/version_6/metrics.csv").read_bytes(),
        ),
        (
            "metrics.csv",
            (CORPUS / "pytorch-lightning-test-artifact/default/version_0/metrics.csv").read_bytes(),
        ),
        ("spikes.csv", _head_lines(DATA / "realruns_csv/spikes.csv")),
    ],  # fmt: skip
    "wandb-csv": [("export.csv", _head_lines(CORPUS / "trackio/logs.csv"))],
    "tidy-csv": [
        ("scalars.csv", _header_and_lines(DATA / "exports/tbparse_scalars.csv", b",loss/")),
        ("melted.csv", _head_lines(DATA / "exports/melted_metrics.csv")),
    ],
    "text": [
        (
            "train.log",
            _head_lines(
                CORPUS / "modded-nanogpt/f66d43d7-e449-4029-8adf-e8537bab49ea.log",
                4096,
                b"val_loss:",
            ),
        ),
        (
            "training.log",
            _head_lines(
                CORPUS
                / "deepspeed-examples/dschat_step3_rlhf/actor_opt-1.3b_critic_opt-350m_globalBatchSize64.log",
                4096,
                b"epoch: 0|step: 0",
            ),
        ),
    ],  # fmt: skip
    "hf-trainer": [
        ("trainer_state.json", (CORPUS / "whisper-large-v2-ja/trainer_state.json").read_bytes())
    ],
    "megatron": [
        (
            "golden_values.json",
            (CORPUS / "megatron-lm/golden_values_dev_dgx_h100_2nd.json").read_bytes(),
        )
    ],
    "keras-history": [("history.json", (DATA / "keras/history.json").read_bytes())],
    "json-records": [
        ("log", (DATA / "records/chainer/result/log").read_bytes()),
        ("history.json", (DATA / "records/history.json").read_bytes()),
    ],
    "tensorboard": [
        (
            "events.out.tfevents.1.host",
            (
                CORPUS / "keras-2017-mnist/events.out.tfevents.1487804655.achal-Inspiron-7559"
            ).read_bytes(),
        ),
        (
            "events.out.tfevents.2.host",
            (
                CORPUS
                / "tensorboard-reducer/tensorboard_runs_run_1/events.out.tfevents.1616760637.janoshs-mbp.lan.45184.0"
            ).read_bytes(),
        ),
        (
            "events.out.tfevents.3.host",
            (
                CORPUS
                / "dl-fundamentals/6.5-part2-cli-simple/version_2/events.out.tfevents.1678396010.MBP-2.local.95850.0"
            ).read_bytes(),
        ),
    ],  # fmt: skip
}
# Folder-shaped runs (tests/data/trackers/SOURCES.md, tests/data/mlflow): one file damaged.
FOLDERS: dict[str, Path] = {
    "clearml": DATA / "trackers" / "clearml_offline",
    "comet": DATA / "trackers" / "comet_offline",
    "wandb": DATA / "trackers" / "wandb_offline",
    "neptune": DATA / "trackers" / ".neptune",
    "sacred": DATA / "trackers" / "sacred_runs",
    "ray-tune": DATA / "trackers" / "ray_results",
    "dvclive": DATA / "trackers" / "dvclive_run",
    "mlflow": DATA / "mlflow" / "mlruns",
}
FORMATS = sorted(SEEDS.keys() | FOLDERS.keys())
MLFLOW_RUN = DATA / "mlflow/mlruns/0/e060ed8aefbc4048ba5e3a4d52371e7e"
MLFLOW_FILES = ["metrics/train/loss", "metrics/val_loss", "meta.yaml", "tags/mlflow.runName"]

INTERESTING = [
    b"\x00", b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\n", b"\r", b"\r\n", b",", b";", b"\t",
    b'"', b"'", b"{", b"}", b"[", b"]", b":", b"=", b" - ", b"__MIN", b"NaN", b"-Infinity",
    b"1e309", b"-1e309", b"9" * 400, b"-0", b"1e-400", b"18446744073709551616", b"null", b"true",
    b'{"step": 1}', b'"loss": "x"', b"step", b"loss", b"iter 1: loss 2.0\n", b"\xef\xbb\xbf",
    b"version https://git-lfs", b"\x1f\x8b", b"events.out.tfevents",
]  # fmt: skip


def _where(data: bytes, fraction: float) -> int:
    return int(fraction * len(data))


def _truncate(data: bytes, at: float) -> bytes:
    return data[: _where(data, at)]


def _flip(data: bytes, at: float, bit: int) -> bytes:
    if not data:
        return data
    i = min(_where(data, at), len(data) - 1)
    return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :]


def _insert(data: bytes, at: float, token: bytes) -> bytes:
    i = _where(data, at)
    return data[:i] + token + data[i:]


def _delete(data: bytes, at: float, length: int) -> bytes:
    i = _where(data, at)
    return data[:i] + data[i + length :]


def _repeat(data: bytes, at: float, length: int, times: int) -> bytes:
    i = _where(data, at)
    piece = data[i : i + length]
    return data[:i] + piece * times + data[i:]


def _deep(data: bytes, at: float, depth: int, bracket: bytes) -> bytes:
    close = b"]" if bracket == b"[" else b"}"
    opened = b'{"a":' if bracket == b"{" else b"["
    return _insert(data, at, opened * depth + b"1" + close * depth)


def _wide(data: bytes, at: float, keys: int) -> bytes:
    """Keys added to the JSON record at or after the position (text before it, when none)."""
    i = data.find(b"{", _where(data, at))
    pairs = b"".join(b'"k%d": 1, ' % k for k in range(keys))
    return data[: i + 1] + pairs + data[i + 1 :] if i >= 0 else _insert(data, at, pairs)


def _long_token(data: bytes, at: float, length: int) -> bytes:
    return _insert(data, at, b"a" * length)


def _record_offsets(data: bytes) -> list[tuple[int, int]]:
    """(start, payload length) of each TFRecord of an event file."""
    found, pos = [], 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        if pos + 16 + length > len(data):
            break
        found.append((pos, length))
        pos += 16 + length
    return found


def _tfrecord(data: bytes, index: int, field: str, value: int) -> bytes:
    """A TFRecord's length, its CRC or its payload's CRC set to another value."""
    records = _record_offsets(data)
    if not records:
        return data
    start, length = records[index % len(records)]
    offset, fmt = {"length": (0, "<Q"), "length_crc": (8, "<I"), "data_crc": (12 + length, "<I")}[
        field
    ]
    packed = struct.pack(fmt, value % (1 << (64 if fmt == "<Q" else 32)))
    return data[: start + offset] + packed + data[start + offset + len(packed) :]


# The longest run of bytes a mutation adds: long lines and tokens (20 KB in the test suite,
# 200 KB in `make fuzz`), the shape that once made the text reader's regex take minutes.
LINE = int(os.environ.get("LOSSTEST_FUZZ_LINE", "200000" if LONG else "20000"))
FRACTION = st.floats(0, 1, allow_nan=False, exclude_max=True)
TOKEN = st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=16))
MUTATION = st.one_of(
    st.tuples(st.just(_truncate), FRACTION),
    st.tuples(st.just(_flip), FRACTION, st.integers(0, 7)),
    st.tuples(st.just(_insert), FRACTION, TOKEN),
    st.tuples(st.just(_delete), FRACTION, st.integers(1, 256)),
    st.tuples(st.just(_repeat), FRACTION, st.integers(1, 256), st.integers(2, LINE // 256)),
    st.tuples(st.just(_deep), FRACTION, st.integers(50, 5000), st.sampled_from([b"[", b"{"])),
    st.tuples(st.just(_wide), FRACTION, st.integers(10, LINE // 10)),
    st.tuples(st.just(_long_token), FRACTION, st.integers(100, LINE)),
    st.tuples(
        st.just(_tfrecord), st.integers(0, 1000),
        st.sampled_from(["length", "length_crc", "data_crc"]),
        st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 1, 2**63, 2**32 - 1])),
    ),
)  # fmt: skip


class Mutant:
    def __init__(self, name: str, data: bytes, recipe: list):
        self.name, self.data, self.recipe = name, data, recipe

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        steps = ", ".join(f"{m[0].__name__}{tuple(m[1:])!r}"[:120] for m in self.recipe)
        return f"Mutant({self.name!r}, {len(self.data)} bytes, [{steps}])"


@st.composite
def mutants(draw, seeds: list[tuple[str, bytes]]) -> Mutant:
    """A real log damaged by a few mutations, maybe gzip-compressed (maybe with its header
    or deflate stream damaged too)."""
    name, data = draw(st.sampled_from(seeds))
    if draw(st.integers(0, 9)) == 0:  # a name that is not UTF-8, as a file system may hold
        name = os.fsdecode(b"\xff\xfe-") + name
    recipe = draw(st.lists(MUTATION, min_size=1, max_size=4))
    for step in recipe:
        data = step[0](data, *step[1:])[:MAX_INPUT]
    packing = draw(st.sampled_from(["plain"] * 6 + ["gzip", "gzip-damaged"]))
    if packing != "plain":
        name, data = name + ".gz", gzip.compress(data, mtime=0)
        if packing == "gzip-damaged":
            data = _flip(data, draw(st.floats(0, 0.2)), draw(st.integers(0, 7)))
            recipe.append((_flip, "gzip"))
    return Mutant(name, data, recipe)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Per kind of input: how many were fed, how many were read (a run reported), how many gave only
# input errors, how many broke the contract (`other`), and the longest call and largest growth of
# the peak resident size seen; `make fuzz` writes them to the file LOSSTEST_FUZZ_TALLY names.
TALLY: dict[str, Counter] = defaultdict(Counter)
WORST: dict[str, dict] = defaultdict(lambda: {"seconds": 0.0, "rss_mb": 0.0})
BROKEN: dict[str, list[str]] = defaultdict(list)


def timed(kind: str, label: object, elapsed: float, grown: float = 0.0) -> None:
    """The longest call and the largest growth of the peak resident size, with their inputs."""
    worst = WORST[kind]
    if elapsed > worst["seconds"]:
        worst["seconds"], worst["slowest"] = elapsed, repr(label)
    if grown > worst["rss_mb"]:
        worst["rss_mb"], worst["largest"] = grown, repr(label)


def check_contract(path: Path | str, label: object, kind: str = "other") -> losstest.Report:
    """Read and analyse the path as the command does: a report of runs, or problems of one line
    each that name their file; within the time budget and the memory budget (the peak resident
    size of this process grows by no more than the budget)."""
    problems: list[InputError] = []
    TALLY[kind]["inputs"] += 1
    start, rss = time.perf_counter(), peak_rss_mb()
    with warnings.catch_warnings(record=True) as escaped:  # each one more line on stderr
        warnings.simplefilter("always")
        report = losstest.analyze(str(path), on_error=problems.append)
    elapsed, grown = time.perf_counter() - start, peak_rss_mb() - rss
    if elapsed > RETIME_S:  # timed again: a stall of a shared machine is no slow read
        start = time.perf_counter()
        losstest.analyze(str(path), on_error=lambda problem: None)
        elapsed = min(elapsed, time.perf_counter() - start)
    timed(kind, label, elapsed, grown)
    assert elapsed < TIME_BUDGET_S, f"{label}: {elapsed:.1f} s"
    assert grown < MEMORY_BUDGET_MB, f"{label}: peak resident size grew {grown:.0f} MB"
    assert report.runs or problems, f"{label}: neither a run nor a problem"
    assert not escaped, f"{label}: a warning escaped: {escaped[0].message}"
    for problem in problems:
        message = str(problem)
        assert "\n" not in message and message.startswith(problem.source), message
    TALLY[kind]["read" if report.runs else "input error"] += 1
    return report


@contextmanager
def kept_if_broken(kind: str, inputs: Path, label: object) -> Iterator[None]:
    """An input that breaks the contract is counted as `other`; in make fuzz it is copied to
    fuzz-found/KIND/N/ with its recipe and the fuzzing goes on (`assert_none_broken` fails the
    test at its end), so that one run tallies every input and keeps every find."""
    try:
        yield
    except Exception as e:
        TALLY[kind]["other"] += 1
        if not KEEP_GOING:
            raise
        where = FOUND / kind.replace(" ", "-") / str(len(BROKEN[kind]))
        where.mkdir(parents=True, exist_ok=True)
        if inputs.is_dir():
            shutil.copytree(inputs, where / inputs.name, dirs_exist_ok=True)
        else:
            shutil.copy(inputs, where / inputs.name)
        (where / "recipe.txt").write_text(f"{label!r}\n{type(e).__name__}: {e}\n")
        BROKEN[kind].append(f"{where}: {next(iter(str(e).splitlines()), type(e).__name__)}")


def assert_none_broken(fmt: str) -> None:
    """No input of this format (read as a file, or in a directory) broke the contract."""
    found = [
        line
        for kind, lines in BROKEN.items()
        if kind in (fmt, f"{fmt} (in a directory)")
        for line in lines
    ]
    assert not found, "inputs that broke the contract:\n" + "\n".join(found)


def write_tally(every: int = 1) -> None:
    """Written every so many inputs too, so that a run stopped early still says what it did."""
    path = os.environ.get("LOSSTEST_FUZZ_TALLY")
    if path and sum(c["inputs"] for c in TALLY.values()) % every == 0:
        tally = {kind: {**TALLY[kind], **WORST[kind]} for kind in sorted(TALLY)}
        tally["process"] = {"peak_rss_mb": peak_rss_mb()}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(tally, indent=1) + "\n")


def limits_of_every_case(expected: dict) -> dict[str, str]:
    """The environment under which every regression case gives its expected outcome at once."""
    return {k: str(v) for case in expected.values() for k, v in case.get("env", {}).items()}
