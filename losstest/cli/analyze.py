"""`losstest analyze`: test every run under the paths; exit 0, 1 (a run failed) or 2."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ..exit_codes import ERROR, exit_code
from ..report import Severity
from ..reporters import REPORT_FORMATS
from .app import (
    ConfigOpt,
    FailOn,
    InputFormatOpt,
    MetricOpt,
    OutputOpt,
    PathsArg,
    PatternOpt,
    StorageOpt,
    ValMetricOpt,
    app,
    choice,
    error,
    terminal,
    user_errors,
    warning,
)  # fmt: skip

Format = choice("Format", REPORT_FORMATS)
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Report format.")]
StepOpt = Annotated[str | None, typer.Option(help="Column that holds the step.")]
ListOpt = Annotated[
    bool, typer.Option("--list-metrics", help="List each run's metrics and which were chosen.")
]
VocabOpt = Annotated[
    int | None, typer.Option(help="Vocabulary size: chance level ln(V) for underfitting.")
]
ClassesOpt = Annotated[
    int | None, typer.Option(help="Number of classes: chance level ln(C) for underfitting.")
]
TargetOpt = Annotated[
    float | None, typer.Option(help="Final loss the run must get below (else underfitting).")
]
FailOnOpt = Annotated[
    FailOn | None, typer.Option(help="Exit 1 on findings of this severity or worse.")
]
ExitZeroOpt = Annotated[bool, typer.Option(help="Exit 0 even when runs fail (2 still means 2).")]
ReportOpt = Annotated[
    list[str] | None,
    typer.Option("--report", help="Also write FORMAT=PATH, e.g. junit=report.xml (repeatable)."),
]
PlotOpt = Annotated[
    Path | None, typer.Option(help="Also draw the runs, findings marked, into this PNG.")
]
PlotDirOpt = Annotated[
    Path | None, typer.Option(help="Also draw one PNG per run into this folder.")
]
SelectOpt = Annotated[
    list[str] | None, typer.Option(help="Run only these checks, by kind or code (repeatable).")
]
IgnoreOpt = Annotated[list[str] | None, typer.Option(help="Skip these checks (repeatable).")]


@app.command()
def analyze(
    paths: PathsArg, format: FormatOpt = "text", output: OutputOpt = None,
    metric: MetricOpt = None, val_metric: ValMetricOpt = None, step: StepOpt = None,
    input_format: InputFormatOpt = None, pattern: PatternOpt = None, list_metrics: ListOpt = False,
    vocab_size: VocabOpt = None, num_classes: ClassesOpt = None, target: TargetOpt = None,
    fail_on: FailOnOpt = None, exit_zero: ExitZeroOpt = False, report_to: ReportOpt = None,
    plot: PlotOpt = None, plot_dir: PlotDirOpt = None, config: ConfigOpt = None,
    select: SelectOpt = None, ignore: IgnoreOpt = None, storage_option: StorageOpt = None,
) -> None:  # fmt: skip
    """Test every run found under the paths; exit 0 (no run failed), 1 (a run failed) or 2."""
    from .. import api, readers, reporters

    with user_errors():
        targets = [(format.value, output), *(reporters.target(spec, REPORT_FORMATS)
                                             for spec in report_to or [])]  # fmt: skip
        targets += [("png", plot)] if plot is not None else []
        chosen = api.configure(
            config, select=select, ignore=ignore, metric=metric, val_metric=val_metric,
            step=step, vocab_size=vocab_size, num_classes=num_classes, target=target,
            fail_on=Severity(fail_on.value) if fail_on else None,
        )  # fmt: skip
        options = readers.options(input_format, chosen.step, pattern, storage_option)
        report = _analyzed(paths, chosen, options)
    color, width = terminal()
    render = reporters.RenderOptions(color, width, chosen.fail_on)
    if list_metrics:  # as JSON when that is the format asked for, else as a table
        from ..reporters import json, text

        listing = json if format.value == "json" else text
        reporters.write(listing.render_metrics(report, render), output)
        raise typer.Exit(0 if report.runs else ERROR)
    with user_errors():
        reporters.emit(report, targets, render)
    _github_summary(report, [name for name, _ in targets], render)
    if plot_dir is not None:
        from ..reporters.plot import save_each

        save_each(report, plot_dir)
    raise typer.Exit(exit_code(report, chosen.fail_on, exit_zero))


def _analyzed(paths, chosen, options):
    """The report, with what could not be read said on stderr once the reading is over."""
    from .. import api

    said = InputLines()
    report = api.analyze(paths, chosen, options, on_error=said.problems.append,
                         on_warning=said.damage.append)  # fmt: skip
    said.write(nothing_read=not report.runs)
    return report


class InputLines:
    """The files that could not be read, and the damage read around, said once the reading is
    over: when nothing could be read (exit 2), a file's damage goes into its error line, so that
    each file gets one line on stderr."""

    def __init__(self) -> None:
        self.problems: list[InputError] = []
        self.damage: list[str] = []

    def write(self, nothing_read: bool) -> None:
        folded: set[str] = set()
        for problem in self.problems:
            of_it = [d for d in self.damage if nothing_read and _names(d, problem.source)]
            folded.update(of_it)
            error(
                "; ".join([str(problem), *(d.removeprefix(f"{problem.source}: ") for d in of_it)])
            )
        for damage in self.damage:
            if damage not in folded:
                warning(damage)


def _names(damage: str, source: str) -> bool:
    """A damage line is of the source when it names the file itself or a file of its folder."""
    return damage.startswith((f"{source}: ", f"{source}/"))


def _github_summary(report, formats: list[str], options) -> None:
    """GitHub Actions shows the Markdown report on the run's page when it is appended here."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path and "github" in formats:
        from ..reporters import markdown

        with open(path, "a", encoding="utf-8") as f:
            f.write(markdown.render(report, options))
