"""The HTML pages of `analyze` and `compare`, opened in headless Chromium as a person would: no
console error, no network request, every run and finding on the page, charts that drew and
answer clicks. Where Chromium or playwright is missing, the browser tests skip and say why."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import losstest
from losstest.cli import app
from losstest.compare import TREND_POINTS, compare
from losstest.reporters.html import render, render_comparison

from .conftest import DATA, REALRUNS

SAMPLES = DATA.parent.parent / "sample_logs"
SWEEP = DATA / "sweep"
SWEEP_RUNS = sorted(p.name for p in SWEEP.iterdir())
runner = CliRunner()


@pytest.fixture(scope="module")
def sample_report():
    return losstest.analyze(str(SAMPLES))


@pytest.fixture(scope="module")
def sweep():
    return compare([str(SWEEP)], by=["lr"], jobs=1)


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no chromium on PATH (make test installs Debian's chromium as root)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


class Opened:
    """A page opened from a file, with what went wrong while it loaded and ran."""

    def __init__(self, browser, path: Path):
        self.problems: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: self.problems.append(f"dialog: {d.message}"))
        self.page.on("request", self._request)
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_function("window.losstest && window.losstest.ready")

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _request(self, request) -> None:
        if request.url != self.url:
            self.problems.append(f"request: {request.url}")

    def chart_pixels(self, selector: str) -> np.ndarray:
        from PIL import Image

        png = self.page.locator(selector).locator("canvas").first.screenshot()
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def colour_count(pixels: np.ndarray, hex_colour: str, tolerance: int = 40) -> int:
    """Pixels near a colour (antialiased lines blend a little)."""
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - target).sum(axis=2) < tolerance).sum())


def cli_page(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "page.html"
    result = runner.invoke(app, [*args, "--format", "html", "-o", str(out)])
    assert result.exit_code in (0, 1), result.output
    return out


@pytest.fixture(scope="module")
def analyze_page(tmp_path_factory):
    return cli_page(tmp_path_factory.mktemp("analyze"), "analyze", str(SAMPLES))


@pytest.fixture(scope="module")
def compare_page(tmp_path_factory):
    return cli_page(tmp_path_factory.mktemp("compare"), "compare", str(SWEEP), "--by", "lr")


# The pages as files ----------------------------------------------------------------------------


def test_the_page_is_one_file_that_loads_nothing(analyze_page, compare_page):
    for path in (analyze_page, compare_page):
        text = path.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
        assert "@import" not in text and "<link" not in text
        assert "uPlot" in text and "window.losstest" in text  # the script inlined


def test_the_summary_puts_failing_runs_first(sample_report):
    page = render(sample_report)
    summary = page[page.index('<table class="summary">') : page.index("</table>")]
    verdicts = re.findall(r'class="v-(\w+)"', summary)
    assert verdicts == sorted(verdicts, key=["fail", "warn", "pass"].index)
    assert len(verdicts) == len(sample_report.runs) and verdicts[0] == "fail"


def test_what_to_do_is_what_explain_says():
    report = losstest.analyze(str(REALRUNS / "spikes.jsonl"))
    kind = report.runs[0].findings[0].kind
    advice = report.runs[0].catalog[kind].advice
    explained = " ".join(runner.invoke(app, ["explain", kind]).output.split())
    assert len(advice) > 40 and advice in explained
    assert advice in render(report).replace("&#x27;", "'")


def test_a_sweep_keeps_one_light_curve_per_run_with_its_spikes(sweep):
    long_run = compare([str(REALRUNS / "spikes.jsonl")], jobs=1).runs[0]
    steps, values = long_run.trend
    assert len(steps) <= TREND_POINTS and np.all(np.diff(steps) >= 0)
    whole = losstest.analyze(str(REALRUNS / "spikes.jsonl")).runs[0].curves.train
    assert values.max() > np.median(whole.value) * 1.2  # the smoothed spikes stand out still
    assert all(r.trend is not None and r.report is None for r in sweep.runs)
    page = render_comparison(compare([str(REALRUNS / "spikes.jsonl")], jobs=1))
    data = re.search(r'id="losstest-data">(.*?)</script>', page).group(1)
    assert len(data) < 8_000  # a run of the longest kind: 1,000 runs stay under 10 MB


@pytest.fixture
def hostile_page(tmp_path, write):
    """A run and a metric named like markup, to be shown as text."""
    name = "<img src=x onerror=alert(1)>"
    metric = "loss</script><script>alert(2)</script>"
    rows = [{"step": i, metric: 3.0 / (1 + i / 50)} for i in range(200)]
    write(f"{name}/metrics.jsonl", "\n".join(json.dumps(r) for r in rows))
    return cli_page(tmp_path, "analyze", str(tmp_path / name), "--metric", metric), name


def test_report_option_writes_the_page_beside_the_text(tmp_path):
    page = tmp_path / "report.html"
    result = runner.invoke(
        app, ["analyze", str(SAMPLES / "spiky.jsonl"), "--report", f"html={page}"]
    )
    assert result.exit_code == 0 and "WARN" in result.output  # the text on the terminal
    assert page.read_text().startswith("<!DOCTYPE html>") and "spiky" in page.read_text()


def test_names_are_text_never_markup(hostile_page):
    path, name = hostile_page
    text = path.read_text()
    assert name not in text and "<script>alert" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


# The pages in a browser ------------------------------------------------------------------------


def test_analyze_page_shows_every_run_and_finding_and_draws_its_charts(
    browser, analyze_page, sample_report
):
    opened = Opened(browser, analyze_page)
    page = opened.page
    text = page.inner_text("body")
    for run in sample_report.runs:
        assert page.locator(".summary a", has_text=run.run).count() == 1
        for finding in run.findings:
            assert finding.message in text
    expected = len(json.loads(page.inner_text("#losstest-data"))["charts"])
    assert page.locator(".chart[data-drawn=true] canvas").count() == expected
    pixels = opened.chart_pixels("#" + page.locator(".chart").first.get_attribute("id"))
    assert colour_count(pixels, "#1f77b4") > 500  # the loss curve drew
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # not a blank canvas
    assert opened.problems == []
    page.close()


def test_findings_are_drawn_as_in_the_plots(browser, analyze_page):
    opened = Opened(browser, analyze_page)
    legends = opened.page.locator(".legend").all_inner_texts()
    joined = " | ".join(legends)
    for label in ("divergence (fail)", "spike", "first NaN / inf", "NaN / inf",
                  "overfitting (fail)", "best val_loss"):  # fmt: skip
        assert label in joined
    spiky = opened.page.locator("section", has_text="WARN spiky").locator(".chart").first
    pixels = opened.chart_pixels("#" + spiky.get_attribute("id"))
    assert colour_count(pixels, "#d81b60") > 20  # the spike triangles
    assert opened.problems == []
    opened.page.close()


def test_hover_zoom_and_a_hidden_legend_entry(browser, analyze_page):
    opened = Opened(browser, analyze_page)
    page = opened.page
    chart = page.locator("section", has_text="WARN spiky").locator(".chart").first
    chart_id = chart.get_attribute("id")
    chart.scroll_into_view_if_needed()
    box = chart.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    tip = chart.locator(".tip")
    assert tip.is_visible() and re.search(r"step \d+", tip.inner_text())
    assert "loss (raw):" in tip.inner_text()

    before = colour_count(opened.chart_pixels(f"#{chart_id}"), "#1f77b4")
    chart.locator(".legend-entry", has_text="loss (smoothed").click()
    chart.locator(".legend-entry", has_text="loss (raw)").click()
    after = colour_count(opened.chart_pixels(f"#{chart_id}"), "#1f77b4")
    assert after < before / 5  # both training curves gone; the lr panel is another chart
    assert chart.locator(".legend-entry.off").count() == 2

    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + 40, steps=5)
    page.mouse.up()
    ranges = page.evaluate(
        "sync => window.losstest.charts.filter(u => u.spec.sync === sync)"
        ".map(u => [u.scales.x.min, u.scales.x.max])",
        chart_id.rsplit("-chart-", 1)[0],
    )
    assert len(ranges) == 2 and ranges[0] == ranges[1]  # the lr panel follows the zoom
    assert 100 < ranges[0][0] < ranges[0][1] < 500  # a fifth of 800 steps
    assert opened.problems == []
    page.close()


def test_compare_page_overlay_legend_hides_a_group(browser, compare_page, sweep):
    opened = Opened(browser, compare_page)
    page = opened.page
    text = page.inner_text("body")
    for run in sweep.runs:
        assert run.run in text
    for sentence in sweep.summary:
        assert sentence in text
    red = "#d62728"  # lr=10, the fourth group's colour
    assert colour_count(opened.chart_pixels("#overlay"), red) > 500
    over = page.locator("#overlay .u-over")
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 20)  # near the diverged runs
    assert re.match(r"lr=10_seed=\d\nstep \d+: \d", page.inner_text("#overlay .tip"))
    page.locator("#overlay .legend-entry", has_text="lr=10").click()
    assert colour_count(opened.chart_pixels("#overlay"), red) < 20
    hidden = page.evaluate("window.losstest.charts[0].series.slice(1).filter(s => !s.show).length")
    assert hidden == 2  # both seeds of the group
    assert page.locator(".hparams .chart[data-drawn=true]").count() >= 1
    assert opened.problems == []
    page.close()


def test_leaderboard_sorts_by_a_clicked_column(browser, compare_page):
    opened = Opened(browser, compare_page)
    page = opened.page
    headers = page.locator(".leaderboard th").all_inner_texts()
    column = headers.index("final_loss")

    def finals() -> list[float]:
        cells = page.locator(f".leaderboard tbody tr td:nth-child({column + 1})").all_inner_texts()
        return [float(c) for c in cells]

    page.locator(".leaderboard th", has_text="final_loss").click()
    assert finals() == sorted(finals()) and len(finals()) == len(SWEEP_RUNS)
    page.locator(".leaderboard th", has_text="final_loss").click()
    assert finals() == sorted(finals(), reverse=True)
    page.locator(".leaderboard th", has_text="run").first.click()
    runs = page.locator(".leaderboard tbody tr td:nth-child(2)").all_inner_texts()
    assert runs == sorted(runs)
    assert opened.problems == []
    page.close()


def test_a_run_named_like_markup_runs_no_script(browser, hostile_page):
    path, name = hostile_page
    opened = Opened(browser, path)
    assert name in opened.page.inner_text("h2")
    assert opened.page.locator(".chart[data-drawn=true]").count() == 1
    assert opened.problems == []  # no alert dialog, no error, no request for `x`
    opened.page.close()
