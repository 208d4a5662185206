"""The command line as users and CI call it: exit codes, errors, formats, inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import losstest
from losstest.checks import CHECKS
from losstest.cli import app
from losstest.exit_codes import exit_code

from .conftest import CORPUS, DATA, healthy_curve

runner = CliRunner()


def jsonl(values, steps=None) -> str:
    steps = range(len(values)) if steps is None else steps
    return "".join(
        json.dumps({"step": int(s), "loss": float(v)}) + "\n"
        for s, v in zip(steps, values, strict=False)
    )


@pytest.fixture
def healthy(write):
    return write("healthy.jsonl", jsonl(healthy_curve(500)))


@pytest.fixture
def diverged(write):
    loss = healthy_curve(500)
    loss[300:] = loss[300] * np.exp(np.linspace(0, 2, 200))
    return write("runs/lr1e-2/metrics.jsonl", jsonl(loss))


def invoke(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_exit_0_on_a_healthy_run_1_on_a_failed_one(healthy, diverged):
    assert invoke("analyze", healthy).exit_code == 0
    result = invoke("analyze", healthy, diverged)
    assert result.exit_code == 1
    assert "divergence" in result.stdout and "lr1e-2" in result.stdout


def test_fail_on_warn_and_exit_zero(write):
    loss = healthy_curve(600)
    loss[300] *= 3
    spiky = write("spiky.jsonl", jsonl(loss))
    assert invoke("analyze", spiky).exit_code == 0
    assert invoke("analyze", spiky, "--fail-on", "warn").exit_code == 1
    assert invoke("analyze", spiky, "--fail-on", "warn", "--exit-zero").exit_code == 0


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("missing.jsonl", None, "no such file"),
        ("empty.jsonl", "", "empty file"),
        ("garbage.bin", bytes(range(256)) * 4, "binary data"),
        ("words.csv", "name,comment\nalpha,beta\n", "no numeric metric"),
        ("prose.txt", "just some words\nwithout any metric\n", "no metric lines or table found"),
    ],
)
def test_bad_input_is_one_line_naming_the_file_exit_2(write, tmp_path, name, content, problem):
    path = tmp_path / name if content is None else write(name, content)
    result = invoke("analyze", path)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and problem in lines[0]
    assert "Traceback" not in result.output


def test_directory_without_logs_and_one_bad_file_among_good(tmp_path, write, healthy):
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    assert invoke("analyze", empty_dir).exit_code == 2
    write("mixed/bad.jsonl", '{"step": 1, "loss": 2}\n{broken\n{"step": 2, "loss": 1}\n')
    write("mixed/good/metrics.jsonl", jsonl(healthy_curve(100)))
    result = invoke("analyze", tmp_path / "mixed")
    assert result.exit_code == 0
    assert "bad.jsonl" in result.stderr and "1 run: 1 pass; 1 unreadable" in result.stdout


def test_json_report_follows_the_schema(healthy, diverged, tmp_path):
    out = tmp_path / "report.json"
    result = invoke("analyze", healthy, diverged, "--format", "json", "--output", out)
    assert result.exit_code == 1 and result.stdout == ""
    report = json.loads(out.read_text())
    assert report["schema"] == "losstest/report/v1"
    run = report["runs"][1]
    assert set(run) == {
        "source",
        "run",
        "verdict",
        "metric",
        "val_metric",
        "steps",
        "last_step",
        "summary",
        "val_summary",
        "findings",
    }
    assert run["run"] == "lr1e-2" and run["verdict"] == "fail" and run["steps"] == 500
    assert set(run["summary"]) == {"first", "last", "min", "min_step", "final"}
    finding = run["findings"][0]
    assert set(finding) == {
        "kind",
        "code",
        "severity",
        "metric",
        "start_step",
        "end_step",
        "message",
        "evidence",
    }
    assert finding["kind"] == "divergence" and finding["severity"] == "fail"


def test_json_writes_non_finite_as_null(write):
    path = write("n.jsonl", jsonl([3.0, 2.0, float("nan")]))
    report = json.loads(invoke("analyze", path, "-f", "json").stdout)
    assert report["runs"][0]["summary"]["last"] is None


def test_stdin_gzip_and_partial_last_line(write):
    text = jsonl(healthy_curve(200))
    result = invoke("analyze", "-", "-f", "json", input=text + '{"step": 200, "lo')
    run = json.loads(result.stdout)["runs"][0]
    assert result.exit_code == 0 and run["source"] == "<stdin>" and run["last_step"] == 199
    gz = write("run.jsonl.gz", text)
    assert json.loads(invoke("analyze", gz, "-f", "json").stdout)["runs"][0]["steps"] == 200


def test_metric_options_and_unknown_metric(write):
    path = write(
        "m.csv", "it,objective,heldout\n" + "".join(f"{i},{3 - i / 100},{3}\n" for i in range(100))
    )
    result = invoke("analyze", path, "--metric", "objective", "--step", "it", "-f", "json")
    run = json.loads(result.stdout)["runs"][0]
    assert run["metric"] == "objective" and run["last_step"] == 99
    result = invoke("analyze", path, "--metric", "objectve")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(path) in line and "no metric 'objectve'" in line and "found: objective" in line
    result = invoke("analyze", path, "--metric", "objective", "--val-metric", "val", "--exit-zero")
    assert result.exit_code == 2 and "no metric 'val'" in result.stderr


def test_a_misspelled_metric_among_good_runs_is_named_and_the_rest_analysed(write, tmp_path):
    write("logs/a.csv", "step,loss\n" + "".join(f"{i},{3 - i / 100}\n" for i in range(100)))
    write("logs/b.csv", "step,train_loss\n" + "".join(f"{i},{3 - i / 100}\n" for i in range(100)))
    result = invoke("analyze", tmp_path / "logs", "--metric", "loss")
    assert "b.csv: no metric 'loss' in run b (found: train_loss)" in result.stderr
    assert "1 run: 1 pass; 1 unreadable" in result.stdout


def test_exit_zero_does_not_hide_that_nothing_was_read(tmp_path):
    (tmp_path / "empty").mkdir()
    result = invoke("analyze", tmp_path / "empty", "--exit-zero")
    assert result.exit_code == 2 and "no training logs found" in result.stderr


def test_list_metrics_names_each_runs_metrics_and_the_chosen_ones():
    result = invoke("analyze", DATA / "realruns/healthy.jsonl", "--list-metrics")
    assert result.exit_code == 0
    text = result.stdout
    assert "healthy" in text and "loss" in text and "val_loss" in text and "grad_norm" in text
    assert invoke("analyze", "/nonexistent/x.jsonl", "--list-metrics").exit_code == 2


def test_list_metrics_as_json():
    result = invoke("analyze", DATA / "realruns/healthy.jsonl", "--list-metrics", "-f", "json")
    assert result.exit_code == 0
    (run,) = json.loads(result.stdout)["runs"]
    assert run["run"] == "healthy" and run["metrics"]["loss"] == run["metrics"]["grad_norm"] > 0
    assert (run["training_loss"], run["validation_loss"]) == ("loss", "val_loss")


def test_input_format_forces_a_reader_and_an_unknown_one_is_refused(write):
    path = write("log.out", "step,loss\n" + "".join(f"{i},{3 - i / 100}\n" for i in range(50)))
    forced = json.loads(invoke("analyze", path, "--input-format", "csv", "-f", "json").stdout)
    assert forced["runs"][0]["steps"] == 50
    wrong = invoke("analyze", path, "--input-format", "jsonl")
    assert wrong.exit_code == 2 and str(path) in wrong.stderr
    unknown = invoke("analyze", path, "--input-format", "parquet")
    assert unknown.exit_code == 2 and "unknown --input-format 'parquet'" in unknown.stderr


def test_pattern_reads_a_custom_log_and_an_invalid_one_is_one_line(write):
    lines = "".join(f"[{i}] objective={3 - i / 100:.3f}\n" for i in range(60))
    path = write("train.txt", lines)
    pattern = r"^\[(?P<step>\d+)\] objective=(?P<loss>[\d.]+)"
    run = json.loads(invoke("analyze", path, "--pattern", pattern, "-f", "json").stdout)["runs"][0]
    assert run["metric"] == "loss" and run["steps"] == 60 and run["last_step"] == 59
    bad = invoke("analyze", path, "--pattern", "(?P<step>\\d+")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    (line,) = bad.stderr.strip().splitlines()
    assert "--pattern" in line and "not a regular expression" in line


@pytest.mark.parametrize("option", ["--vocab-size", "--num-classes"])
def test_vocabulary_or_classes_set_the_chance_level(option):
    plateau = DATA / "realruns/plateau.jsonl"  # stuck at 4.55 > 0.9 ln 65
    result = invoke("analyze", plateau, option, "65", "-f", "json")
    findings = json.loads(result.stdout)["runs"][0]["findings"]
    (under,) = [f for f in findings if f["kind"] == "underfitting"]
    assert under["evidence"]["chance"] == pytest.approx(4.174, abs=0.001)
    healthy = invoke("analyze", DATA / "realruns/healthy.jsonl", option, "65", "-f", "json")
    assert json.loads(healthy.stdout)["runs"][0]["findings"] == []


@pytest.mark.parametrize("name, content", [
    ("run.csv", "step,loss\n" + "".join(f"{i},{3 - i / 100}\n" for i in range(200))),
    ("run.txt", "".join(f"iter {i}: loss {3 - i / 100:.4f}, time 10ms\n" for i in range(200))),
])  # fmt: skip
def test_stdin_and_gzip_beyond_jsonl(write, name, content):
    piped = json.loads(invoke("analyze", "-", "-f", "json", input=content).stdout)["runs"][0]
    assert piped["source"] == "<stdin>" and piped["steps"] == 200
    gz = json.loads(invoke("analyze", write(name + ".gz", content), "-f", "json").stdout)
    assert gz["runs"][0]["steps"] == 200 and gz["runs"][0]["last_step"] == 199


def test_a_truncated_gz_keeps_what_decompresses(write, tmp_path):
    import gzip

    whole = gzip.compress(jsonl(healthy_curve(5000)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    result = invoke("analyze", path, "-f", "json")
    run = json.loads(result.stdout)["runs"][0]
    assert result.exit_code == 0 and 1000 < run["steps"] < 5000


def test_select_unknown_check_is_a_usage_error(healthy):
    result = invoke("analyze", healthy, "--select", "nonsense")
    assert result.exit_code == 2 and "unknown check 'nonsense'" in result.stderr


def test_explain_every_kind():
    for kind in CHECKS:
        result = invoke("explain", kind)
        code = CHECKS[kind].code
        assert result.exit_code == 0 and result.stdout.startswith(f"{code}  {kind} — ")
        assert invoke("explain", code.lower()).stdout == result.stdout
    assert invoke("explain", "nope").exit_code == 2


def test_text_report_is_plain_and_fits_80_columns(healthy, diverged):
    result = invoke("analyze", healthy, diverged)
    assert "\x1b[" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_python_dash_m_and_version(healthy):
    result = subprocess.run(
        [sys.executable, "-m", "losstest", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("losstest ")


def test_real_lightning_run_overfits():
    result = invoke("analyze", CORPUS / "dl-fundamentals/6.7-dropout", "-f", "json")
    runs = {r["run"]: r for r in json.loads(result.stdout)["runs"]}
    assert runs["version_0"]["verdict"] == "pass"
    assert [f["kind"] for f in runs["version_1"]["findings"]] == ["overfitting"]


def test_docs_checks_page_is_written_from_the_docstrings():
    import importlib.util
    from pathlib import Path

    root = Path(__file__).parents[1]
    spec = importlib.util.spec_from_file_location("make_checks", root / "docs/make_checks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (root / "docs/checks.md").read_text() == module.page(), "run python docs/make_checks.py"


EXIT_CODES = [  # (real logs, fail_on, exit_zero, exit code)
    ([], "fail", False, 2),
    ([], "fail", True, 2),  # nothing read is an error, whatever else is asked
    (["realruns/healthy.jsonl"], "warn", False, 0),  # no finding at all
    (["realruns/healthy.jsonl"], "info", False, 0),
    (["realruns/resumed.jsonl"], "warn", False, 0),  # info only
    (["realruns/resumed.jsonl"], "info", False, 1),
    (["realruns/spikes.jsonl"], "fail", False, 0),  # a warning
    (["realruns/spikes.jsonl"], "warn", False, 1),
    (["realruns/spikes.jsonl"], "warn", True, 0),
    (["realruns/healthy.jsonl", "realruns/late_divergence.jsonl"], "fail", False, 1),
    (["realruns/late_divergence.jsonl"], "fail", True, 0),
]


@pytest.mark.parametrize("logs, fail_on, exit_zero, code", EXIT_CODES)
def test_the_exit_code_contract(logs, fail_on, exit_zero, code):
    report = losstest.Report(tuple(r for log in logs for r in losstest.analyze(DATA / log).runs))
    assert exit_code(report, losstest.Severity(fail_on), exit_zero) == code
    if not exit_zero:  # the default is not to hide failures (watch relies on it)
        assert exit_code(report, losstest.Severity(fail_on)) == code
