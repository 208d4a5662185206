"""The command line: options → configuration → library API → reporter → exit code."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .errors import LossTestError
from .model import Severity
from .outcome import ERROR, exit_code

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Test the loss curves of training runs: NaN, divergence, spikes, oscillation, "
    "plateaus, over- and underfitting.",
)  # fmt: skip

FORMATS = (
    "text",
    "json",
    "junit",
    "github",
    "markdown",
)  # reporters.REPORTERS, without importing it
Format = Enum("Format", {name: name for name in FORMATS}, type=str)
FailOn = Enum("FailOn", {"fail": "fail", "warn": "warn"}, type=str)
WatchFormat = Enum("WatchFormat", {"text": "text", "json": "json"}, type=str)


def _error(message: str) -> None:
    typer.echo(f"losstest: error: {message}", err=True)


@contextmanager
def _user_errors() -> Iterator[None]:
    """A LossTestError ends the command: one line on stderr naming the problem, exit 2."""
    try:
        yield
    except LossTestError as e:
        _error(str(e))
        raise typer.Exit(ERROR) from None


def _terminal() -> tuple[bool, int]:
    """Colour only on a terminal without NO_COLOR; the terminal's width, else 80."""
    tty = sys.stdout.isatty()
    color = tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    width = shutil.get_terminal_size((80, 24)).columns if tty else 80
    return color, max(60, width)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"losstest {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """losstest"""


MetricOpt = Annotated[str | None, typer.Option(help="Training loss metric name.")]
ValMetricOpt = Annotated[str | None, typer.Option(help="Validation loss metric name.")]
ConfigOpt = Annotated[
    Path | None, typer.Option(help="Configuration file (default: losstest.toml found upward).")
]
PathsArg = Annotated[
    list[str], typer.Argument(help="Log files, directories, globs, or - for standard input.")
]


@app.command()
def analyze(
    paths: PathsArg,
    format: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    metric: MetricOpt = None,
    val_metric: ValMetricOpt = None,
    step: Annotated[str | None, typer.Option(help="Column that holds the step.")] = None,
    input_format: Annotated[
        str | None, typer.Option(help="Read every input as this format (default: by content).")
    ] = None,
    pattern: Annotated[
        str | None,
        typer.Option(help="Regex for text logs: a named group `step` and one per metric."),
    ] = None,
    list_metrics: Annotated[
        bool, typer.Option("--list-metrics", help="List each run's metrics and which were chosen.")
    ] = False,
    vocab_size: Annotated[
        int | None, typer.Option(help="Vocabulary size: chance level ln(V) for underfitting.")
    ] = None,
    num_classes: Annotated[
        int | None, typer.Option(help="Number of classes: chance level ln(C) for underfitting.")
    ] = None,
    target: Annotated[
        float | None, typer.Option(help="Final loss the run must get below (else underfitting).")
    ] = None,
    fail_on: Annotated[
        FailOn | None, typer.Option(help="Exit 1 on findings of this severity or worse.")
    ] = None,
    exit_zero: Annotated[bool, typer.Option(help="Exit 0 even when runs fail.")] = False,
    report_to: Annotated[
        list[str] | None,
        typer.Option(
            "--report", help="Also write FORMAT=PATH, e.g. junit=report.xml (repeatable)."
        ),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Also draw the runs, findings marked, into this PNG.")
    ] = None,
    plot_dir: Annotated[
        Path | None, typer.Option(help="Also draw one PNG per run into this folder.")
    ] = None,
    config: ConfigOpt = None,
    select: Annotated[
        list[str] | None, typer.Option(help="Run only these checks (repeatable).")
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option(help="Skip these checks (repeatable).")
    ] = None,
) -> None:
    """Test every run found under the paths; exit 0 (no run failed), 1 (a run failed) or 2."""
    from . import api
    from . import config as settings
    from .readers import READERS
    from .reporters import REPORTERS, RenderOptions

    with _user_errors():
        extra = [_report_target(spec) for spec in report_to or []]
        if input_format is not None and input_format not in READERS:
            raise LossTestError(
                f"unknown --input-format {input_format!r} (known: {', '.join(READERS)})"
            )
        base = settings.load(config)
        chosen = base.replace(
            metric=metric, val_metric=val_metric, step=step, vocab_size=vocab_size,
            num_classes=num_classes, target=target,
            fail_on=Severity(fail_on.value) if fail_on else None,
            select=settings._kinds(select, "--select") if select else None,
            ignore=base.ignore | settings._kinds(ignore, "--ignore") if ignore else None,
        )  # fmt: skip
        options = api.ReadOptions(input_format, chosen.step, pattern)
        report = api.analyze(
            paths, chosen, options, on_error=lambda e: _error(str(e)),
            on_warning=lambda message: typer.echo(f"losstest: warning: {message}", err=True),
        )  # fmt: skip
    color, width = _terminal()
    if list_metrics:
        from .reporters.text import render_metrics

        sys.stdout.write(render_metrics(report, RenderOptions(color, width)))
        raise typer.Exit(0 if report.runs else ERROR)
    options = RenderOptions(color and output is None, width, chosen.fail_on)
    rendered = REPORTERS[format.value](report, options)
    if output is not None:
        output.write_text(rendered)
    else:
        sys.stdout.write(rendered)
    for name, path in extra:
        path.write_text(REPORTERS[name](report, RenderOptions(False, 100, chosen.fail_on)))
    _draw(report, plot, plot_dir)
    raise typer.Exit(exit_code(report, chosen.fail_on, exit_zero))


def _report_target(spec: str) -> tuple[str, Path]:
    """`junit=out/report.xml` → ("junit", Path("out/report.xml"))."""
    name, _, path = spec.partition("=")
    if name not in FORMATS or not path:
        raise LossTestError(
            f"--report {spec!r}: expected FORMAT=PATH with FORMAT one of {', '.join(FORMATS)}"
        )
    return name, Path(path)


def _draw(report, plot: Path | None, plot_dir: Path | None, options=None) -> None:
    """The PNGs asked for: all runs in one file, and/or one file per run."""
    if plot is None and plot_dir is None or not report.runs:
        return
    from .reporters import plot as plots

    options = options or plots.PlotOptions()
    if plot is not None:
        plots.save(report.runs, plot, options)
    if plot_dir is not None:
        for run in report.runs:
            name = "".join(c if c.isalnum() or c in "-_." else "_" for c in run.run) or "run"
            plots.save([run], plot_dir / f"{name}.png", options)


XAxis = Enum("XAxis", {name: name for name in ("step", "epoch", "time")}, type=str)


@app.command("plot")
def plot_command(
    paths: PathsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The PNG to write.")],
    smooth: Annotated[
        float, typer.Option(min=0.0, max=0.999, help="TensorBoard-style smoothing weight.")
    ] = 0.6,
    x: Annotated[XAxis, typer.Option(help="The x axis.")] = "step",
    log_y: Annotated[
        bool | None, typer.Option("--log-y/--linear-y", help="Y scale (default: by range).")
    ] = None,
    metric: MetricOpt = None,
    val_metric: ValMetricOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Draw the curves of the runs into a PNG, findings marked."""
    from . import api
    from . import config as settings
    from .reporters.plot import PlotOptions

    with _user_errors():
        chosen = settings.load(config).replace(metric=metric, val_metric=val_metric)
        report = api.analyze(paths, chosen, on_error=lambda e: _error(str(e)))
    if not report.runs:
        raise typer.Exit(ERROR)
    _draw(report, output, None, PlotOptions(smooth, x.value, log_y))
    typer.echo(f"wrote {output} ({len(report.runs)} run{'s' * (len(report.runs) != 1)})")


CompareFormat = Enum("CompareFormat", {n: n for n in ("text", "json", "csv", "markdown")}, type=str)


@app.command("compare")
def compare_command(
    paths: PathsArg,
    format: Annotated[
        CompareFormat, typer.Option("--format", "-f", help="Output format.")
    ] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
    rank_by: Annotated[
        str | None,
        typer.Option(help="best_val_loss (default when logged), final_loss, auc, steps_to_target."),
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="Group by these hyperparameters, e.g. lr,batch_size.")
    ] = None,
    target: Annotated[
        float | None, typer.Option(help="Loss for steps_to_target: the first step at or below it.")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option(help="Worker processes (default: every core).", min=1)
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Overlay PNG of all runs' curves.")] = None,
    plot_hparams: Annotated[
        Path | None, typer.Option(help="PNG of the ranking metric against each hyperparameter.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Compare many runs: leaderboard, hyperparameter groups, overlay plots."""
    from . import config as settings
    from .compare import RANKINGS, compare
    from .reporters import RenderOptions
    from .reporters.leaderboard import LEADERBOARDS

    keys = [k.strip() for k in by.split(",") if k.strip()] if by else []
    with _user_errors():
        if rank_by is not None and rank_by not in RANKINGS:
            raise LossTestError(f"--rank-by {rank_by!r}: one of {', '.join(RANKINGS)}")
        chosen = settings.load(config)
        result = compare(
            paths, chosen, rank_by=rank_by, by=keys, target=target, jobs=jobs,
            keep_reports=plot is not None, progress=_progress(),
        )  # fmt: skip
    for problem in result.problems:
        _error(problem.message)
    if not result.runs:
        raise typer.Exit(ERROR)
    color, width = _terminal()
    rendered = LEADERBOARDS[format.value](result, RenderOptions(color and output is None, width))
    if output is not None:
        output.write_text(rendered)
    else:
        sys.stdout.write(rendered)
    _draw_comparison(result, keys, plot, plot_hparams)


def _progress():
    """A progress bar on a terminal's stderr, nothing elsewhere."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task("analysing runs", total=total)
        bar.update(task, completed=done)
        if done == total:
            bar.stop()

    return update


def _draw_comparison(result, keys: list[str], plot: Path | None, plot_hparams: Path | None) -> None:
    from .reporters import plot as plots

    if plot is not None:
        reports = [r.report for r in result.runs if r.report is not None]
        groups = None
        if keys:
            groups = {
                r.run: ", ".join(f"{k}={r.hparams.get(k)}" for k in keys) for r in result.runs
            }
        plots.save(reports, plot, plots.PlotOptions(), groups)
    if plot_hparams is not None:
        names = keys or sorted({k for r in result.runs for k in r.hparams})
        points = {
            k: [(float(r.hparams[k]), r.value(result.rank_by), r.verdict == "fail")
                for r in result.runs if isinstance(r.hparams.get(k), int | float)]
            for k in names
        }  # fmt: skip
        points = {k: v for k, v in points.items() if v}
        figure = plots.hparams_figure(points, result.rank_by)
        plot_hparams.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(plot_hparams)


@app.command("watch")
def watch_command(
    path: Annotated[Path, typer.Argument(help="A log being written, or a TensorBoard folder.")],
    interval: Annotated[float, typer.Option(help="Seconds between polls.", min=0.05)] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="Analyse what is there and exit.")] = False,
    exit_on: Annotated[
        FailOn | None, typer.Option(help="Exit 1 at the first finding this severe.")
    ] = None,
    format: Annotated[
        WatchFormat, typer.Option("--format", "-f", help="text, or json: a line per finding.")
    ] = "text",
    metric: MetricOpt = None,
    val_metric: ValMetricOpt = None,
    input_format: Annotated[str | None, typer.Option(help="Read the log as this format.")] = None,
    pattern: Annotated[str | None, typer.Option(help="Regex for text logs.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Follow a log that is being written and report findings as they appear."""
    import json
    import time

    from . import config as settings
    from .monitor import Monitor
    from .reporters import REPORTERS, RenderOptions
    from .reporters.json import finding_dict
    from .watch import Follower

    with _user_errors():
        chosen = settings.load(config).replace(metric=metric, val_metric=val_metric)
    color, width = _terminal()
    name = path.parent.name if path.name.startswith(("metrics", "events")) else path.stem
    follower = Follower(path, input_format, pattern)
    monitor = Monitor(chosen, run=name or str(path), source=str(path))
    threshold = Severity(exit_on.value) if exit_on else None
    last_step = None
    live = None

    def show(finding) -> None:
        if format.value == "json":
            typer.echo(json.dumps({"run": monitor.run, "source": str(path), "step": last_step,
                                   **finding_dict(finding)}))  # fmt: skip
            return
        line = f"step {last_step}: {finding.severity.value} {finding.kind}: {finding.message}"
        if live is not None:  # above the live status line
            live.console.print(line, highlight=False)
        else:
            typer.echo(line)

    def finish(code: int | None = None) -> None:
        report = monitor.report()
        for finding in monitor.findings[len(shown) :]:
            show(finding)
        if format.value == "text":
            sys.stdout.write(REPORTERS["text"](report, RenderOptions(color, width)))
        raise typer.Exit(code if code is not None else exit_code(report, chosen.fail_on))

    shown: list = []
    if color and format.value == "text" and not once:
        from rich.console import Console
        from rich.live import Live

        live = Live(monitor.status(), console=Console(), auto_refresh=False, transient=True)
        live.start()
    try:
        while True:
            with _user_errors():
                records = follower.poll()
            if follower.restarted:
                typer.echo(f"{path}: the log was truncated or replaced; starting over", err=True)
                monitor = Monitor(chosen, run=monitor.run, source=str(path))
                shown = []
            for step, values in records:
                last_step = step
                for finding in monitor.update(step, **values):
                    shown.append(finding)
                    show(finding)
                    if threshold is not None and finding.severity.rank >= threshold.rank:
                        finish(1)
            if live is not None:
                live.update(monitor.status(), refresh=True)
            if once:
                finish()
            time.sleep(interval)
    except KeyboardInterrupt:
        finish()
    finally:
        if live is not None:
            live.stop()


@app.command("config")
def config_command(
    show: Annotated[
        bool, typer.Option("--show", help="Print the effective configuration.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Show the configuration in effect here (file found upward, or the defaults)."""
    from . import config as settings

    with _user_errors():
        chosen = settings.load(config)
    typer.echo(settings.dump(chosen))


@app.command()
def explain(kind: Annotated[str, typer.Argument(help="A finding kind, e.g. spike.")]) -> None:
    """Describe a check: what it detects, why it matters, its parameters, what to do."""
    from .detectors import DETECTORS

    if kind not in DETECTORS:
        _error(f"unknown check {kind!r} (known: {', '.join(DETECTORS)})")
        raise typer.Exit(ERROR)
    typer.echo(DETECTORS[kind].__doc__.strip())


def main() -> None:
    app(prog_name="losstest")
