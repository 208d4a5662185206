"""`losstest compare`: many runs side by side: leaderboard, hyperparameter groups, plots."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..exit_codes import ERROR
from ..reporters import COMPARISON_FORMATS
from .app import (
    ConfigOpt,
    OutputOpt,
    PathsArg,
    StorageOpt,
    app,
    choice,
    error,
    terminal,
    user_errors,
)  # fmt: skip

Format = choice("CompareFormat", COMPARISON_FORMATS)
RankOpt = Annotated[
    str | None,
    typer.Option(help="best_val_loss (default when logged), final_loss, auc, steps_to_target."),
]
ByOpt = Annotated[
    str | None, typer.Option(help="Group by these hyperparameters, e.g. lr,batch_size.")
]
TargetOpt = Annotated[
    float | None, typer.Option(help="Loss for steps_to_target: the first step at or below it.")
]
JobsOpt = Annotated[int | None, typer.Option(help="Worker processes (default: every core).", min=1)]
ClusterOpt = Annotated[
    str | None,
    typer.Option(
        envvar="DASK_SCHEDULER_ADDRESS",
        help="Run the per-run work on the Dask cluster of this scheduler (tcp://host:8786).",
    ),
]
PlotOpt = Annotated[Path | None, typer.Option(help="Overlay PNG of all runs' curves.")]
HparamsOpt = Annotated[
    Path | None, typer.Option(help="PNG of the ranking measure against each hyperparameter.")
]


@app.command("compare")
def compare_command(
    paths: PathsArg,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = "text",
    output: OutputOpt = None, rank_by: RankOpt = None, by: ByOpt = None,
    target: TargetOpt = None, jobs: JobsOpt = None, plot: PlotOpt = None,
    plot_hparams: HparamsOpt = None, config: ConfigOpt = None, cluster: ClusterOpt = None,
    storage_option: StorageOpt = None,
) -> None:  # fmt: skip
    """Compare many runs: leaderboard, hyperparameter groups, overlay plots."""
    from .. import api, readers, reporters
    from ..compare import compare

    keys = [k.strip() for k in by.split(",") if k.strip()] if by else []
    with user_errors():
        result = compare(
            paths, api.configure(config), readers.options(storage=storage_option),
            rank_by=rank_by, by=keys, target=target, jobs=jobs, keep_reports=plot is not None,
            progress=_progress(), cluster=cluster or None,
        )  # fmt: skip
    for problem in result.problems:
        error(problem.message)
    if not result.runs:
        raise typer.Exit(ERROR)
    color, width = terminal()
    targets = [(format.value, output), *([("png", plot)] if plot is not None else [])]
    reporters.emit(result, targets, reporters.RenderOptions(color, width))
    if plot_hparams is not None:
        from ..reporters.plot import save_hparams

        save_hparams(result, plot_hparams)


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
