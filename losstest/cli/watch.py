"""`losstest watch`: follow a log being written and report findings as they appear."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from ..exit_codes import FAILED, exit_code
from ..report import Finding, Severity
from .app import (
    ConfigOpt,
    FailOn,
    InputFormatOpt,
    MetricOpt,
    PatternOpt,
    StorageOpt,
    ValMetricOpt,
    app,
    choice,
    terminal,
    user_errors,
    warning,
)  # fmt: skip

WatchFormat = choice("WatchFormat", ("text", "json"))
ExitOnOpt = Annotated[FailOn | None, typer.Option(help="Exit 1 at the first finding this severe.")]
WatchFormatOpt = Annotated[
    WatchFormat, typer.Option("--format", "-f", help="text, or json: a line per finding.")
]


@app.command("watch")
def watch_command(
    path: Annotated[str, typer.Argument(help="A log being written, a TensorBoard folder, a URL.")],
    interval: Annotated[float, typer.Option(help="Seconds between polls.", min=0.05)] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="Analyse what is there and exit.")] = False,
    exit_on: ExitOnOpt = None,
    format: WatchFormatOpt = "text",
    metric: MetricOpt = None,
    val_metric: ValMetricOpt = None,
    input_format: InputFormatOpt = None,
    pattern: PatternOpt = None,
    config: ConfigOpt = None,
    storage_option: StorageOpt = None,
) -> None:
    """Follow a log that is being written and report findings as they appear."""
    from .. import api, readers
    from ..watch import Watch

    with user_errors():
        chosen = api.configure(config, metric=metric, val_metric=val_metric)
        watch = Watch(path, chosen, readers.options(input_format, None, pattern, storage_option))
    color, width = terminal()
    live = _live(watch) if color and format.value == "text" and not once else None
    show = _shower(watch, format.value, live)
    threshold = Severity(exit_on.value) if exit_on else None
    try:
        code = _follow(watch, show, live, interval, once, threshold)
    finally:
        if live is not None:
            live.stop()
    report, last = watch.finish()
    for step, finding in last:
        show(step, finding)
    if format.value == "text":
        from ..reporters import RenderOptions, text

        typer.echo(text.render(report, RenderOptions(color, width)), nl=False)
    raise typer.Exit(code if code is not None else exit_code(report, chosen.fail_on))


def _follow(watch, show, live, interval: float, once: bool, threshold) -> int | None:
    """Poll until --once is done, a finding reaches --exit-on (exit 1), or Ctrl-C."""
    try:
        while True:
            with user_errors():
                found = watch.poll()
            for problem in watch.warnings:
                warning(problem)
            if watch.restarted:
                typer.echo(f"{watch.path}: the log was truncated or replaced; starting over",
                           err=True)  # fmt: skip
            for step, finding in found:
                show(step, finding)
                if threshold is not None and finding.severity.rank >= threshold.rank:
                    return FAILED
            if live is not None:
                live.update(watch.monitor.status(), refresh=True)
            if once:
                return None
            time.sleep(interval)
    except KeyboardInterrupt:
        return None


def _live(watch):
    """A status line that stays at the bottom of the terminal while findings scroll above."""
    from rich.console import Console
    from rich.live import Live

    live = Live(watch.monitor.status(), console=Console(), auto_refresh=False, transient=True)
    live.start()
    return live


def _shower(watch, format: str, live):
    def show(step: int | None, finding: Finding) -> None:
        if format == "json":
            from ..reporters.json import finding_dict

            typer.echo(json.dumps({"run": watch.run, "source": str(watch.path),
                                   "step": step, **finding_dict(finding)}))  # fmt: skip
            return
        line = (f"step {step}: {finding.severity.value} {finding.kind} "
                f"{finding.code}: {finding.message}")  # fmt: skip
        if live is not None:  # above the live status line
            live.console.print(line, highlight=False)
        else:
            typer.echo(line)

    return show
