"""losstest as a CI step: configuration, rules, reference runs, and the CI output formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from junitparser import Error, Failure, JUnitXml
from typer.testing import CliRunner

import losstest
from losstest import checks
from losstest import config as settings
from losstest.cli import app
from losstest.errors import ConfigError
from losstest.reporters import REPORTERS, RenderOptions

from . import goldens

ROOT = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "golden"
runner = CliRunner()


@pytest.fixture
def shared_report(monkeypatch):
    """The report every output format is checked against: the sample logs, relative paths."""
    monkeypatch.chdir(ROOT)
    return losstest.analyze(["sample_logs"], settings.Config())


RENDERED = goldens.rendered()


@pytest.mark.parametrize("path", sorted(RENDERED), ids=lambda p: p.name)
def test_every_format_matches_its_golden_file(path):
    assert path.exists(), f"{path.name} is missing: `make goldens` writes it"
    assert RENDERED[path] == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from its golden file: if the change is meant, run `make goldens`, "
        "review the diff and commit it with the reason"
    )


def test_every_golden_file_is_still_rendered():
    assert sorted(GOLDEN.iterdir()) == sorted(RENDERED)


def test_junit_parses_with_a_real_junit_parser(shared_report, tmp_path):
    path = tmp_path / "report.xml"
    path.write_text(REPORTERS["junit"].render(shared_report, RenderOptions()))
    xml = JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    assert len(suites) == 6
    diverged = suites["losstest: diverged"]
    results = {case.name: case.result for case in diverged}
    assert isinstance(results["divergence"][0], Failure) and results["nan"] == []
    assert suites["losstest: healthy"].failures == 0
    warn = RenderOptions(fail_on=losstest.Severity.WARN)
    path.write_text(REPORTERS["junit"].render(shared_report, warn))
    spiky = {s.name: s for s in JUnitXml.fromfile(str(path))}["losstest: spiky"]
    assert spiky.failures == 1


def test_junit_lists_unreadable_files_as_errors(tmp_path, write):
    write("logs/bad.jsonl", '{"step": 1, "loss": 2}\n{oops\n{"step": 3, "loss": 1}\n')
    write(
        "logs/good.jsonl",
        "".join(json.dumps({"step": i, "loss": 3 - i / 100}) + "\n" for i in range(100)),
    )
    out = tmp_path / "r.xml"
    result = runner.invoke(app, ["analyze", str(tmp_path / "logs"), "-f", "junit", "-o", str(out)])
    assert result.exit_code == 0
    cases = [case for suite in JUnitXml.fromfile(str(out)) for case in suite]
    errors = [r for case in cases for r in case.result if isinstance(r, Error)]
    assert len(errors) == 1 and "bad.jsonl" in errors[0].message
    assert "line 2 is not valid JSON" in errors[0].message


def test_github_annotations_and_step_summary(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier steps' summary\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = runner.invoke(app, ["analyze", "sample_logs", "--format", "github"])
    lines = result.stdout.splitlines()
    assert any(
        line.startswith(
            "::error file=sample_logs/diverged.jsonl,title=losstest divergence LT102 (diverged)::"
        )
        for line in lines
    )
    assert any(line.startswith("::warning ") and "spike" in line for line in lines)
    text = summary.read_text()
    assert text.startswith("earlier steps' summary\n") and "| run | verdict |" in text


def test_step_summary_is_left_alone_by_other_formats(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    runner.invoke(app, ["analyze", "sample_logs", "--format", "json"])
    assert not summary.exists()


def test_report_option_writes_several_formats(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    xml, md = tmp_path / "r.xml", tmp_path / "r.md"
    result = runner.invoke(app, ["analyze", "sample_logs/healthy.jsonl", "--report", f"junit={xml}",
                                 "--report", f"markdown={md}"])  # fmt: skip
    assert result.exit_code == 0 and "PASS" in result.stdout
    assert xml.read_text().startswith("<?xml") and md.read_text().startswith("## losstest")
    bad = runner.invoke(app, ["analyze", "sample_logs/healthy.jsonl", "--report", "pdf=x.pdf"])
    assert bad.exit_code == 2 and "FORMAT=PATH" in bad.stderr


FULL_CONFIG = """
[tool.losstest]
metric = "loss"
val_metric = "val_loss"
step = "step"
vocab_size = 96
num_classes = 96
target = 9.0
fail_on = "warn"
select = ["nan", "divergence", "spike", "oscillation", "plateau", "overfitting", "underfitting", "restart", "LT501", "regression"]
ignore = ["restart"]

[tool.losstest.checks.spike]
enabled = true
severity = "fail"
threshold = 8.0
min_rise = 0.2
max_width = 3
window = 21
min_share = 0.05
min_points = 12

[tool.losstest.checks.divergence]
min_ratio = 1.5
min_fraction = 0.2
window = 0.1
significance = 3
min_points = 10

[[tool.losstest.rules]]
name = "converges"
final_loss_below = 2.5

[[tool.losstest.rules]]
at_step = 400
loss_below = 2.5
severity = "warn"

[[tool.losstest.rules]]
min_val_loss_below = 1.95

[tool.losstest.reference]
run = "sample_logs/healthy.jsonl"
tolerance = 0.05
after_step = 100
metric = "loss"
severity = "fail"
"""


def test_config_with_every_key_is_read_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        FULL_CONFIG.replace("sample_logs/", str(ROOT / "sample_logs") + "/")
    )
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    config = settings.load(start=nested)
    assert config.metric == "loss" and config.fail_on == "warn" and config.ignore == {"restart"}
    steps = {check.kind: (params, level) for check, params, level in checks.plan(config).steps}
    assert "restart" not in steps
    assert steps["spike"][0].threshold == 8.0 and steps["spike"][1] == "fail"
    assert steps["divergence"][0].significance == 3.0
    assert [r.name for r in steps["rule"][0].rules] == ["converges", "rule 2", "rule 3"]
    assert steps["regression"][0].tolerance == 0.05 and config.chance == pytest.approx(np.log(96))
    shown = settings.dump(config, checks.describe(config))
    assert "threshold = 8.0" in shown and "[reference]" in shown and 'name = "converges"' in shown


@pytest.mark.parametrize(
    "toml, problem",
    [
        ("metrik = 'loss'", "unknown key 'metrik'"),
        ("vocab_size = 'big'", "vocab_size must be int"),
        ("fail_on = 'sometimes'", "severity must be fail, warn or info"),
        ("ignore = ['nonsense']", "unknown check 'nonsense'"),
        ("[checks.spike]\nthreshold = 'high'", "checks.spike.threshold must be float"),
        ("[checks.spike]\nthreshhold = 3", "unknown key checks.spike.threshhold"),
        ("[checks.wobble]\nenabled = true", "[checks.wobble]: unknown check 'wobble'"),
        ("[[rules]]\nat_step = 3", "at_step and loss_below go together"),
        ("[[rules]]\nlimit = 3", "unknown key 'limit'"),
        ("[reference]\ntolerance = 0.1", "reference needs run"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_bad_configuration_names_the_key_and_the_file(tmp_path, toml, problem):
    path = tmp_path / "losstest.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=re.escape(problem)) as error:
        checks.plan(settings.load(path))  # the file's keys, then the checks' tables
    assert str(path) in str(error.value)
    result = runner.invoke(
        app, ["analyze", str(ROOT / "sample_logs/healthy.jsonl"), "--config", str(path)]
    )
    assert (
        result.exit_code == 2
        and problem.split("'")[0] in result.stderr
        and "Traceback" not in result.output
    )


def test_config_show_prints_the_effective_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "losstest.toml").write_text("[checks.spike]\nthreshold = 9.5\n")
    result = runner.invoke(app, ["config", "--show"])
    assert (
        result.exit_code == 0
        and "threshold = 9.5" in result.stdout
        and "losstest.toml" in result.stdout
    )


def test_flags_override_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "losstest.toml").write_text('fail_on = "warn"\n')
    spiky = str(ROOT / "sample_logs/spiky.jsonl")
    assert runner.invoke(app, ["analyze", spiky]).exit_code == 1
    assert runner.invoke(app, ["analyze", spiky, "--fail-on", "fail"]).exit_code == 0
    assert runner.invoke(app, ["analyze", spiky, "--ignore", "spike"]).exit_code == 0


def test_losstest_toml_wins_over_pyproject_in_the_same_folder_and_the_nearest_folder_wins(
    tmp_path, monkeypatch
):
    (tmp_path / "pyproject.toml").write_text('[tool.losstest]\nmetric = "from_pyproject"\n')
    (tmp_path / "losstest.toml").write_text('metric = "from_losstest_toml"\n')
    nested = tmp_path / "a"
    nested.mkdir()
    assert settings.load(start=tmp_path).metric == "from_losstest_toml"
    assert settings.load(start=nested).metric == "from_losstest_toml"
    (nested / "pyproject.toml").write_text('[tool.losstest]\nmetric = "nearest"\n')
    assert settings.load(start=nested).metric == "nearest"
    (nested / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.losstest]
    assert settings.load(start=nested).metric == "from_losstest_toml"
    monkeypatch.chdir(nested)
    shown = runner.invoke(app, ["config", "--show"]).stdout
    assert (
        f"# from {tmp_path / 'losstest.toml'}" in shown and 'metric = "from_losstest_toml"' in shown
    )


def test_a_missing_config_file_is_one_line_exit_2(tmp_path):
    missing = tmp_path / "nope.toml"
    result = runner.invoke(app, ["analyze", str(ROOT / "sample_logs/healthy.jsonl"),
                                 "--config", str(missing)])  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert str(missing) in line and "No such file" in line
