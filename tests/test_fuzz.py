"""Damaged real logs of every format, through the readers, the sniffer and the command line:
a report, or a one-line problem naming the file (exit 2), never a traceback, a hang or a
memory blow-up. Every input that once broke something is kept in tests/data/bad/ with the
message it must give (EXPECTED.json), and replayed here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import losstest
from losstest import readers
from losstest.cli import app
from losstest.readers import ReadOptions, Source
from losstest.readers.limits import nesting_depth, widest_row
from losstest.readers.source import printable

from .fuzzing import (
    BAD,
    CORPUS,
    DATA,
    FOLDERS,
    FORMATS,
    FUZZ,
    INTERESTING,
    MLFLOW_FILES,
    MLFLOW_RUN,
    SEEDS,
    TALLY,
    TIME_BUDGET_S,
    assert_none_broken,
    check_contract,
    kept_if_broken,
    limits_of_every_case,
    mutants,
    timed,
    write_tally,
)
from .fuzzing.make_bad import bomb


@pytest.fixture(scope="module", autouse=True)
def tally():
    yield
    write_tally()


EXPECTED = json.loads((BAD / "EXPECTED.json").read_text())
FIXED = {name: case for name, case in EXPECTED.items() if "open" not in case}
OPEN = {name: case for name, case in EXPECTED.items() if "open" in case}
ALL_SEEDS = [seed for seeds in SEEDS.values() for seed in seeds]


def _fresh(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz", numbered=True)


def test_every_format_of_the_registry_is_fuzzed():
    assert sorted(readers.READERS) == FORMATS


def _damaged_file(fmt: str, data: st.DataObject, folder: Path) -> None:
    """A damaged log, read as a file and in its folder."""
    mutant = data.draw(mutants(SEEDS[fmt]))
    path = folder / mutant.name
    path.write_bytes(mutant.data)
    with kept_if_broken(fmt, path, mutant):
        check_contract(path, mutant, fmt)
    with kept_if_broken(f"{fmt} (in a directory)", folder, mutant):
        check_contract(folder, mutant, f"{fmt} (in a directory)")


FOLDER_FILES = {
    fmt: sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    for fmt, root in FOLDERS.items()
}


def _damaged_folder(fmt: str, data: st.DataObject, folder: Path) -> None:
    """A folder-shaped run (a tracker's offline run, an MLflow store) with one file damaged."""
    run = folder / FOLDERS[fmt].name
    shutil.copytree(FOLDERS[fmt], run)
    target = data.draw(st.sampled_from(FOLDER_FILES[fmt]))
    mutant = data.draw(mutants([(target.name, (run / target).read_bytes())]))
    (run / target).write_bytes(mutant.data)
    with kept_if_broken(fmt, folder, (str(target), mutant)):
        check_contract(folder, (str(target), mutant), fmt)


def _warm_up(fmt: str, folder: Path) -> None:
    """The intact log read once first, so that the first damaged one is not timed with the
    modules imported on first use."""
    for name, data in SEEDS.get(fmt, [])[:1]:
        (folder / name).write_bytes(data)
    losstest.analyze(folder if fmt in SEEDS else FOLDERS[fmt], on_error=pytest.fail)


@pytest.mark.parametrize("fmt", FORMATS)
def test_damaged_logs_of_every_format(fmt, tmp_path_factory):
    _warm_up(fmt, _fresh(tmp_path_factory))

    @FUZZ
    @given(st.data())
    def read(data):
        folder = _fresh(tmp_path_factory)
        (_damaged_file if fmt in SEEDS else _damaged_folder)(fmt, data, folder)
        shutil.rmtree(folder)
        write_tally(every=200)

    read()
    assert_none_broken(fmt)


@FUZZ
@given(
    st.sampled_from(MLFLOW_FILES),
    st.one_of(st.binary(max_size=64), st.sampled_from(INTERESTING)),
    st.booleans(),
)
def test_damaged_mlflow_run_folders(tmp_path_factory, file, content, append):
    root = _fresh(tmp_path_factory) / "mlruns" / "0"
    run = root / MLFLOW_RUN.name
    shutil.copytree(MLFLOW_RUN, run)
    shutil.copy(MLFLOW_RUN.parent / "meta.yaml", root / "meta.yaml")
    target = run / file
    target.write_bytes((target.read_bytes() if append else b"") + content)
    check_contract(root.parent, (file, content, append), "mlflow files")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_good_runs_beside_broken_files_are_all_reported(tmp_path, seed, monkeypatch):
    """Every good run of a directory (a run of every format the readers know) is reported and
    every broken file named, whatever the order the walk meets them in."""
    for key, value in limits_of_every_case(FIXED).items():
        monkeypatch.setenv(key, value)
    good = {f"good{i}/{name}": data for i, (name, data) in enumerate(ALL_SEEDS)}
    broken = {f"broken{seed}/{name}": (BAD / name).read_bytes() for name in FIXED}
    for name, data in {**good, **broken}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    for case in FIXED.values():
        if "run" in case:
            shutil.copytree(BAD / case["run"], tmp_path / f"broken{seed}" / case["run"],
                            dirs_exist_ok=True)  # fmt: skip
    for fmt, root in FOLDERS.items():
        shutil.copytree(root, tmp_path / f"good-{fmt}" / root.name)
    report = check_contract(tmp_path, "directory")
    reported = {p for r in report.runs for p in Path(r.source).parts if p.startswith("good")}
    assert reported == {f"good{i}" for i in range(len(good))} | {f"good-{f}" for f in FOLDERS}
    named = {Path(p.source).name for p in report.problems}
    should_fail = {Path(n).name for n, case in FIXED.items() if case["outcome"] == "problem"}
    assert should_fail <= named


@pytest.mark.parametrize("name", sorted(FIXED))
def test_inputs_that_once_broke_something(name, tmp_path):
    """Each regression file gives its expected outcome: its one-line message, or a report."""
    case = EXPECTED[name]
    path = tmp_path / name
    if "run" in case:  # the run's other files too, and the run read whole
        shutil.copytree(BAD / case["run"], tmp_path / case["run"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((BAD / name).read_bytes())
    env = {k: str(v) for k, v in case.get("env", {}).items()}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        report = check_contract(tmp_path / case["run"] if "run" in case else path, name)
    if case["outcome"] == "problem":
        assert not report.runs
        message = case["message"].replace("{readers}", ", ".join(readers.READERS))
        assert [p.message for p in report.problems] == [f"{path}: {message}"]
    else:
        assert report.runs and not report.problems


@pytest.mark.parametrize("name", sorted(OPEN))
@pytest.mark.xfail(strict=True, reason="still open: see its entry in tests/data/bad/EXPECTED.json")
def test_inputs_still_open_are_read_within_the_time_budget(name):
    """Run apart, so that a hang ends at the budget; when it passes, update EXPECTED.json."""
    path = BAD / OPEN[name]["run"] if "run" in OPEN[name] else BAD / name
    code = "import losstest, sys; sys.exit(3 * (not losstest.analyze(sys.argv[1], on_error=print).runs))"
    try:
        done = subprocess.run([sys.executable, "-c", code, str(path)], timeout=TIME_BUDGET_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: {OPEN[name]['open']}")
    assert done.returncode == (0 if OPEN[name]["outcome"] == "report" else 3), OPEN[name]["open"]


def test_a_gzip_event_file_that_does_not_inflate_leaves_the_other_files_of_its_run(tmp_path):
    """Each file of a TensorBoard run is decompressed apart: a damaged one is named in a
    warning, the scalars of the others are read."""
    good = BAD / "tb_gzip_folder/events.out.tfevents.1.host.gz"
    shutil.copy(good, tmp_path / good.name)
    (tmp_path / "events.out.tfevents.2.host.gz").write_bytes(good.read_bytes()[:12] + b"\0" * 64)
    warnings: list[str] = []
    (run,) = losstest.analyze(tmp_path, on_error=pytest.fail, on_warning=warnings.append).runs
    assert run.steps == 20
    assert warnings == [
        f"{tmp_path}/events.out.tfevents.2.host.gz: not a valid gzip file (Error -3 while "
        "decompressing data: invalid stored block lengths); read the 0 scalars before it"
    ]


def _one_wide_among_narrow(records: int, keys: int) -> list[dict]:
    narrow = [{"loss": 2.0 - i / 1e5, "learning_rate": 1e-4, "step": i} for i in range(records)]
    narrow[0].update({f"k{i}": 1 for i in range(keys)})
    return narrow


def test_one_record_of_many_keys_among_many_narrow_ones_is_read_within_the_budget(tmp_path):
    """A trainer_state.json of 12,000 records, the first with 1,500 more keys (the columns
    were built record by record for each key: 25 s for 20,000 records and 1,990 keys)."""
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"log_history": _one_wide_among_narrow(12_000, 1_500)}))
    (run,) = check_contract(path, "one wide record among narrow ones").runs
    assert run.steps == 12_000


@pytest.mark.parametrize("name", ["metrics.jsonl", "trainer_state.json"])
def test_a_mostly_empty_table_of_too_many_cells_is_a_problem(tmp_path, name):
    """One record of 1,990 keys among 30,000 narrow ones: 60 M cells, 30,000 values (a JSONL
    of 90,000 such records took 30 s and 3.5 GB)."""
    records = _one_wide_among_narrow(30_000, 1_990)
    text = "\n".join(map(json.dumps, records))
    path = tmp_path / name
    path.write_text(text if name.endswith(".jsonl") else json.dumps({"log_history": records}))
    report = check_contract(path, "a mostly empty table")
    assert not report.runs
    (problem,) = report.problems
    assert problem.message.endswith(
        "1993 keys over 30000 records, mostly empty: more than 20000000 cells (LOSSTEST_MAX_KEYS)"
    )


def test_an_event_file_of_more_tags_than_allowed_is_a_problem(tmp_path, monkeypatch):
    """Each tag is a metric whose name is weighed when the loss is chosen (50,000 tags in
    2.2 MB took 3.9 s): past LOSSTEST_MAX_KEYS the run is a problem."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path))
    for i in range(301):
        value = summary_pb2.Summary.Value(tag=f"loss/{i}" if i else "loss", simple_value=1.0)
        writer.add_event(event_pb2.Event(step=i, summary=summary_pb2.Summary(value=[value])))
    writer.close()
    monkeypatch.setenv("LOSSTEST_MAX_KEYS", "300")
    problems: list[str] = []
    assert not losstest.analyze(tmp_path, on_error=lambda e: problems.append(e.problem)).runs
    assert problems == ["more than 300 metrics (LOSSTEST_MAX_KEYS)"]
    monkeypatch.setenv("LOSSTEST_MAX_KEYS", "301")
    assert check_contract(tmp_path, "301 tags within the limit").runs


@pytest.mark.parametrize(
    "row, problem",
    [
        (b"7\t0.5" + b"\t1" * 17_000, "a row of 17002 fields under a header of 2"),
        (b"\t0.5", None),  # a step left empty: the row is left out, without a NumPy warning
        (b"1e300\t0.5", None),  # a step no integer holds, likewise
    ],
)
def test_a_dvclive_metric_file_with_a_damaged_row(tmp_path, row, problem):
    run = tmp_path / "dvclive_run"
    shutil.copytree(FOLDERS["dvclive"], run)
    (tsv,) = run.rglob("lr.tsv")
    lines = tsv.read_bytes().splitlines(keepends=True)
    tsv.write_bytes(lines[0] + row + b"\n" + b"".join(lines[2:]))
    report = check_contract(tmp_path, row[:20])
    assert [p.message for p in report.problems] == ([f"{tsv}: {problem}"] if problem else [])


def test_a_pattern_that_does_not_compile_never_escapes_the_sniffer():
    source = Source(str(BAD / "no_records/training.log"), BAD / "no_records/training.log")
    assert readers.sniff(source, ReadOptions(pattern="(")) is None


runner = CliRunner()


def _command_line_contract(path: Path, label: object) -> None:
    """Exit 0 or 1 with the JSON report, or 2 with one error line naming the file."""
    start = time.perf_counter()
    result = runner.invoke(app, ["analyze", str(path), "-f", "json"])
    timed(COMMAND_LINE, label, time.perf_counter() - start)
    assert result.exception is None or isinstance(result.exception, SystemExit), label
    if result.exit_code == 2:  # one error line, the damage read around folded into it
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"losstest: error: {printable(str(path))}: "), line
        TALLY[COMMAND_LINE]["input error"] += 1
    else:
        assert result.exit_code in (0, 1), result.exit_code
        assert json.loads(result.stdout)["schema"] == "losstest/report/v1"
        TALLY[COMMAND_LINE]["read"] += 1


COMMAND_LINE = "command line"


def test_command_line_exits_0_1_with_json_or_2_with_one_line(tmp_path_factory):
    _warm_up("jsonl", _fresh(tmp_path_factory))
    runner.invoke(app, ["analyze", str(FOLDERS["mlflow"]), "-f", "json"])

    @FUZZ
    @given(mutants(ALL_SEEDS))
    def run(mutant):
        folder = _fresh(tmp_path_factory)
        path = folder / mutant.name
        path.write_bytes(mutant.data)
        TALLY[COMMAND_LINE]["inputs"] += 1
        with kept_if_broken(COMMAND_LINE, path, mutant):
            _command_line_contract(path, mutant)
        shutil.rmtree(folder)
        write_tally(every=200)

    run()
    assert_none_broken(COMMAND_LINE)


def test_the_program_names_each_broken_file_in_one_line_without_a_traceback():
    """The real program, on every regression file at once: exit 2 when none is readable, one
    stderr line per problem, each naming its file."""
    problems = sorted(BAD / n for n, case in FIXED.items() if case["outcome"] == "problem")
    done = subprocess.run(
        [sys.executable, "-m", "losstest", "analyze", *map(str, problems), "-f", "json"],
        capture_output=True, text=True, timeout=TIME_BUDGET_S * len(problems),
        env={**os.environ, **limits_of_every_case(FIXED), "PYTHONWARNINGS": "default"},
    )  # fmt: skip
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(lines) == len(problems) and all(
        str(p) in line for p, line in zip(problems, lines, strict=True)
    )


def test_a_limit_raised_by_its_variable_lets_the_file_be_read(monkeypatch, tmp_path):
    path = tmp_path / "metrics.jsonl.gz"
    path.write_bytes(bomb(3))  # real records, then 3 MB of blanks
    monkeypatch.setenv("LOSSTEST_MAX_DECOMPRESSED_MB", "2")
    assert not check_contract(path, "3 MB past a 2 MB limit").runs
    monkeypatch.setenv("LOSSTEST_MAX_DECOMPRESSED_MB", "4")
    assert check_contract(path, "3 MB within a 4 MB limit").runs


def test_a_limit_that_is_no_number_is_a_configuration_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "losstest", "analyze", str(BAD / "wide_record.jsonl")],
        capture_output=True, text=True, env={**os.environ, "LOSSTEST_MAX_KEYS": "lots"},
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "LOSSTEST_MAX_KEYS='lots' is not a positive whole number" in done.stderr


@pytest.mark.parametrize(
    "text, per_line, depth",
    [
        (b'{"a": [[1]]}\n{}', True, 3),
        (b'{"a": 1}\n{"b": {"c": 1}}', True, 2),
        (b'{"a": 1}\n{"b": 2}', True, 1),
        (b'{\n  "a": {\n "b": [1]}}', False, 3),
        (b"[1]", False, 1),
        (b"1", False, 0),
    ],
)
def test_nesting_depth(text, per_line, depth):
    assert nesting_depth(text, per_line=per_line) == depth


@pytest.mark.parametrize(
    "text, fields",
    [(b"a,b\n1,2,3\n4", 3), (b"a,b,c,d", 4), (b"a\n1\n", 1), (b"a,b\r\n1,2\r\n", 2), (b"", 1)],
)
def test_widest_row(text, fields):
    assert widest_row(text, ",") == fields


KERAS_EVENTS = CORPUS / "keras-2017-mnist/events.out.tfevents.1487804655.achal-Inspiron-7559"
CHECKSUM_BYTE = 106  # in the second record: only the first scalar (val_acc) is before it


def _event_file_damaged_after_its_first_scalar(run: Path) -> Path:
    data = bytearray(KERAS_EVENTS.read_bytes())
    data[CHECKSUM_BYTE] ^= 0xFF
    run.mkdir()
    (run / "events.out.tfevents.1.host").write_bytes(data)
    return run / "events.out.tfevents.1.host"


def test_a_file_whose_damage_left_no_loss_gets_one_line_with_the_damage_in_it(tmp_path):
    """Exit 2 comes with one stderr line a file: the damage read around is part of the error."""
    path = _event_file_damaged_after_its_first_scalar(tmp_path / "run")
    result = runner.invoke(app, ["analyze", str(path), "-f", "json"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"losstest: error: {path}: no loss metric found in run run (found: val_acc); name the "
        "loss with --metric; bad record checksum at byte 83; read the 1 scalars before it"
    ]


def test_beside_a_run_that_was_read_the_damage_stays_a_warning_of_its_own(tmp_path):
    path = _event_file_damaged_after_its_first_scalar(tmp_path / "damaged")
    shutil.copytree(DATA / "realruns_tb/healthy", tmp_path / "intact")
    result = runner.invoke(app, ["analyze", str(tmp_path), "-f", "json"])
    assert result.exit_code in (0, 1)
    assert [run["run"] for run in json.loads(result.stdout)["runs"]] == ["intact"]
    assert result.stderr.splitlines() == [
        f"losstest: error: {tmp_path / 'damaged'}: no loss metric found in run damaged (found: "
        "val_acc); name the loss with --metric",
        f"losstest: warning: {path}: bad record checksum at byte 83; read the 1 scalars before it",
    ]
