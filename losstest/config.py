"""Settings of a check run: defaults, `losstest.toml` / `[tool.losstest]`, command-line overrides.

```toml
metric = "loss"            # training loss; found by name when absent
val_metric = "val_loss"
vocab_size = 50257         # chance level ln(V) for underfitting (or num_classes)
fail_on = "fail"           # or "warn"
select = ["nan", "divergence"]   # run only these checks, by kind or code (default: all)
ignore = ["spike"]

[checks.spike]             # any check: enabled, severity, and its parameters
enabled = true
severity = "fail"
threshold = 8.0
```
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .report import Severity

FILE_NAMES = ("losstest.toml", "pyproject.toml")
TOP_KEYS = {
    "metric": str, "val_metric": str, "step": str, "vocab_size": int, "num_classes": int,
    "target": float, "fail_on": str, "select": list, "ignore": list, "checks": dict,
    "rules": list, "reference": dict,
}  # fmt: skip


@dataclass(frozen=True)
class Config:
    """The settings as written. The check tables are kept as they are: the check registry
    validates them (`losstest.checks.plan`), so that this module knows no check."""

    metric: str | None = None
    val_metric: str | None = None
    step: str | None = None
    vocab_size: int | None = None
    num_classes: int | None = None
    target: float | None = None
    fail_on: Severity = Severity.FAIL
    select: frozenset[str] | None = None  # kinds or codes
    ignore: frozenset[str] = frozenset()
    checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # [checks.KIND]
    rules: tuple[Mapping[str, Any], ...] = ()  # [[rules]]
    reference: Mapping[str, Any] | None = None  # [reference], its run a resolved path
    source: str | None = None  # the file it came from

    @property
    def chance(self) -> float | None:
        """The cross-entropy of guessing uniformly: ln(vocabulary or classes), if known."""
        n = self.vocab_size or self.num_classes
        return math.log(n) if n and n > 1 else None

    def replace(self, **changes: Any) -> Config:
        """A copy with the non-None changes applied (command-line flags over the file)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def typed(value: Any, kind: type, key: str, where: str) -> Any:
    """`value` if it is of `kind` (an int where a float is asked for becomes one); else the
    key and the file are named."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{where}: {key} must be {kind.__name__}, not {type(value).__name__}")
    return value


def parse_severity(value: str, where: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise ConfigError(f"{where}: severity must be fail, warn or info, not {value!r}") from None


def from_mapping(data: Mapping[str, Any], where: str) -> Config:
    """A Config from a parsed TOML table; every unknown top-level key or wrong type is named
    (the check tables are checked by the registry)."""
    settings: dict[str, Any] = {"source": where}
    for key, value in data.items():
        if key not in TOP_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(TOP_KEYS)})")
        settings[key] = typed(value, TOP_KEYS[key], key, where)
    if "fail_on" in settings:
        settings["fail_on"] = parse_severity(settings["fail_on"], f"{where}: fail_on")
    for key in ("select", "ignore"):
        if key in settings:
            settings[key] = frozenset(typed(v, str, key, where) for v in settings[key])
    for kind, table in settings.get("checks", {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: checks.{kind} must be a table")
    if "rules" in settings:
        settings["rules"] = tuple(settings["rules"])
    if "reference" in settings:
        settings["reference"] = _reference(settings["reference"], where)
    return Config(**settings)


def _reference(table: dict[str, Any], where: str) -> dict[str, Any]:
    """The [reference] table with its run as a path relative to the configuration file."""
    if "run" not in table:
        raise ConfigError(f'{where}: reference needs run = "path of a known-good log"')
    base = Path(where).parent if where and Path(where).is_file() else Path.cwd()
    run = Path(typed(table["run"], str, "reference.run", where))
    return {**table, "run": str(run if run.is_absolute() else base / run)}


def find_file(start: Path) -> Path | None:
    """The nearest losstest.toml, or pyproject.toml with [tool.losstest], from `start` upward."""
    for folder in (start, *start.parents):
        for name in FILE_NAMES:
            path = folder / name
            if path.is_file() and (
                name != "pyproject.toml" or b"[tool.losstest" in path.read_bytes()
            ):
                return path
    return None


def load(path: Path | None = None, start: Path | None = None) -> Config:
    """The configuration in `path`, or the one found upward from `start`, or the defaults."""
    path = path or find_file(start or Path.cwd())
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from e
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("losstest", {})
    return from_mapping(data, str(path))


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Severity):
        return '"' + str(getattr(value, "value", value)).replace('"', '\\"') + '"'
    if isinstance(value, list | tuple | frozenset):
        return "[" + ", ".join(toml_value(v) for v in sorted(value, key=str)) + "]"
    return repr(value)


def dump(config: Config, checks: list[str] = ()) -> str:
    """The configuration as TOML, with `checks` (the registry's lines for every check) in
    place: what `config --show` prints, and a starting point for a losstest.toml."""
    lines = [f"# from {config.source or 'the defaults'}"]
    for key in ("metric", "val_metric", "step", "vocab_size", "num_classes", "target"):
        value = getattr(config, key)
        if value is not None:
            lines.append(f"{key} = {toml_value(value)}")
        else:
            found = key in ("metric", "val_metric", "step")
            lines.append(f"# {key} = {'(found automatically)' if found else '(not set)'}")
    lines.append(f"fail_on = {toml_value(config.fail_on)}")
    if config.select is not None:
        lines.append(f"select = {toml_value(config.select)}")
    lines.append(f"ignore = {toml_value(config.ignore)}")
    lines += checks
    for rule in config.rules:
        lines += ["", "[[rules]]", *(f"{k} = {toml_value(v)}" for k, v in rule.items())]
    if config.reference is not None:
        lines += ["", "[reference]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in config.reference.items()]
    return "\n".join(lines)
