"""What the checks' tests look at: real logs by name, made-up curves, and what a check said."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

import losstest
from losstest.config import Config
from losstest.frame import long_frame, single
from losstest.report import Finding, RunReport

from ..conftest import DATA

ROOT = DATA.parents[1]


def realpath(name: str) -> Path:
    """A real log named by its path below tests/data, or as sample_logs/..."""
    return ROOT / name if name.startswith("sample_logs") else DATA / name


def real(name: str) -> RunReport:
    """The one run of a real log, checked with the default configuration; read once, except
    under mutmut, which must see every test run the code it judges."""
    return (_analysed if os.environ.get("MUTANT_UNDER_TEST") else _analysed_once)(name)


def _analysed(name: str) -> RunReport:
    return real_with(name, Config())


_analysed_once = cache(_analysed)


def real_with(name: str, config: Config) -> RunReport:
    (run,) = losstest.analyze(realpath(name), config).runs
    return run


def made_up(loss, steps=None, val=None, val_steps=None, config: Config | None = None) -> RunReport:
    """The RunReport of a made-up run: `loss` at `steps` (0, 1, ... by default) and optionally
    a validation curve."""
    loss = np.asarray(loss, dtype=float)
    steps = np.arange(len(loss)) if steps is None else np.asarray(steps)
    metric = ["loss"] * len(loss)
    if val is not None:
        metric += ["val_loss"] * len(val)
        steps = np.concatenate([steps, np.asarray(val_steps)])
        loss = np.concatenate([loss, np.asarray(val, dtype=float)])
    frame = long_frame(np.array(metric, dtype=object), steps, loss, run="r")
    frame.insert(0, "source", single("made-up", len(frame)))
    return losstest.analyze(frame, config).runs[0]


def only(kind: str, settings: dict | None = None, **params: object) -> Config:
    """Just one check, with these parameters instead of its defaults (and other settings,
    e.g. vocab_size, as given)."""
    checks = {kind: params} if params else {}
    return Config(select=frozenset({kind}), checks=checks, **(settings or {}))


def kinds(run: RunReport, at_least: str = "warn") -> list[str]:
    """The kinds found at this severity or worse, each once, sorted."""
    rank = losstest.Severity(at_least).rank
    return sorted({f.kind for f in run.findings if f.severity.rank >= rank})


def of_kind(run: RunReport, kind: str) -> list[Finding]:
    return [f for f in run.findings if f.kind == kind]


def found(kind: str, case, **params: object) -> list[Finding]:
    """What the check alone, with these parameters, finds in a made-up case: a training loss,
    or a dict of `made_up`'s arguments plus `settings` (vocab_size, target, ...)."""
    case = dict(case) if isinstance(case, dict) else {"loss": case}
    config = only(kind, case.pop("settings", None), **params)
    return of_kind(made_up(**case, config=config), kind)


def fires(kind: str, case, at: str = "info", **params: object) -> bool:
    """Whether the check finds anything of severity `at` or worse in a made-up case."""
    rank = losstest.Severity(at).rank
    return any(f.severity.rank >= rank for f in found(kind, case, **params))


@dataclass(frozen=True)
class Boundary:
    """A default threshold pinned from both sides: at the defaults `case(quiet)` stays quiet
    and `case(fires)` fires; with the parameter set to `silences` the firing case goes quiet,
    set to `wakes` the quiet case fires. Moving the default past either value fails a test."""

    param: str
    case: Callable[[float], object]
    quiet: float
    fires: float
    silences: float | None
    wakes: float | None
    at: str = "info"  # "fail": the boundary between a warning and a failure

    def check(self, kind: str) -> None:
        quiet, loud, at = self.case(self.quiet), self.case(self.fires), self.at
        assert not fires(kind, quiet, at), f"{self.param}: {self.quiet} fired"
        assert fires(kind, loud, at), f"{self.param}: {self.fires} stayed quiet"
        if self.silences is not None:
            assert not fires(kind, loud, at, **{self.param: self.silences})
        if self.wakes is not None:
            assert fires(kind, quiet, at, **{self.param: self.wakes})


def unpinned(params: type, boundaries: list[Boundary], reasons: dict[str, str]) -> set[str]:
    """The parameters of a check that neither a Boundary pins nor a stated reason leaves out."""
    named = {b.param for b in boundaries} | set(reasons)
    return {f.name for f in dataclasses.fields(params)} ^ named


def finding(kind: str, start: int = 0, end: int = 100, **evidence: object) -> Finding:
    """A finding of `kind` over steps `start`..`end`, for the checks' supersession rules."""
    return Finding(kind, "warn", "loss", start, end, kind, evidence)
