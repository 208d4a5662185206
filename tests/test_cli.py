"""The command line as users and CI call it: exit codes, errors, formats, inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from losstest.checks import CHECKS
from losstest.cli import app

from .conftest import CORPUS, healthy_curve

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
    result = invoke("analyze", path, "--metric", "nope", "-f", "json")
    assert json.loads(result.stdout)["runs"][0]["metric"] is None


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
