"""`losstest config`: the configuration in effect here, every check with all its settings."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import ConfigOpt, app, user_errors


@app.command("config")
def config_command(
    show: Annotated[
        bool, typer.Option("--show", help="Print the effective configuration.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Show the configuration in effect here (file found upward, or the defaults)."""
    from .. import api, checks
    from .. import config as settings

    with user_errors():
        chosen = api.configure(config)
        typer.echo(settings.dump(chosen, checks.describe(chosen)))
