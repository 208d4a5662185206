"""`losstest plot`: draw the runs into a PNG, findings marked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..exit_codes import ERROR
from .app import (
    ConfigOpt,
    MetricOpt,
    PathsArg,
    StorageOpt,
    ValMetricOpt,
    app,
    choice,
    error,
    user_errors,
)  # fmt: skip

XAxis = choice("XAxis", ("step", "epoch", "time"))


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
    storage_option: StorageOpt = None,
) -> None:
    """Draw the curves of the runs into a PNG, findings marked."""
    from .. import api, readers, reporters

    with user_errors():
        chosen = api.configure(config, metric=metric, val_metric=val_metric)
        options = readers.options(storage=storage_option)
        report = api.analyze(paths, chosen, options, on_error=lambda e: error(str(e)))
    if not report.runs:
        raise typer.Exit(ERROR)
    options = reporters.RenderOptions(plot=reporters.PlotOptions(smooth, x.value, log_y))
    reporters.emit(report, [("png", output)], options)
    typer.echo(f"wrote {output} ({len(report.runs)} run{'s' * (len(report.runs) != 1)})")
