"""`losstest explain`: what a check detects, why it matters, its parameters, what to do."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app, user_errors


@app.command()
def explain(
    kind: Annotated[str, typer.Argument(help="A check's kind or code, e.g. spike or LT103.")],
) -> None:
    """Describe a check: what it detects, why it matters, its parameters, what to do."""
    from ..checks import CHECKS, kind_of

    with user_errors():
        check = CHECKS[kind_of(kind, "explain")]
    typer.echo(f"{check.code}  {check.doc}")
