"""Settings of a check run: defaults, `losstest.toml` / `[tool.losstest]`, command-line overrides.

```toml
metric = "loss"            # training loss; found by name when absent
val_metric = "val_loss"
vocab_size = 50257         # chance level ln(V) for underfitting (or num_classes)
fail_on = "fail"           # or "warn"
select = ["nan", "divergence"]   # run only these checks (default: all)
ignore = ["spike"]

[checks.spike]             # any detector: enabled, severity, and its parameters
enabled = true
severity = "fail"
threshold = 8.0
```
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .detectors import DETECTORS
from .detectors.underfitting import chance_level
from .errors import ConfigError
from .model import Severity
from .rules import Reference, Rule, parse_reference, parse_rules

FILE_NAMES = ("losstest.toml", "pyproject.toml")
TOP_KEYS = {
    "metric": str, "val_metric": str, "step": str, "vocab_size": int, "num_classes": int,
    "target": float, "fail_on": str, "select": list, "ignore": list, "checks": dict,
    "rules": list, "reference": dict,
}  # fmt: skip


@dataclass(frozen=True)
class Config:
    metric: str | None = None
    val_metric: str | None = None
    step: str | None = None
    vocab_size: int | None = None
    num_classes: int | None = None
    target: float | None = None
    fail_on: Severity = Severity.FAIL
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    params: Mapping[str, Any] = field(
        default_factory=lambda: {kind: m.Params() for kind, m in DETECTORS.items()}
    )
    rules: tuple[Rule, ...] = ()
    reference: Reference | None = None
    source: str | None = None  # the file it came from

    @property
    def chance(self) -> float | None:
        return chance_level(self.vocab_size or self.num_classes)

    def enabled(self, kind: str) -> bool:
        return (self.select is None or kind in self.select) and kind not in self.ignore

    def severity_of(self, kind: str, found: Severity) -> Severity:
        return self.severity.get(kind, found)

    def replace(self, **changes: Any) -> Config:
        """A copy with the non-None changes applied (command-line flags over the file)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _kinds(values: list, where: str) -> frozenset[str]:
    unknown = [v for v in values if v not in DETECTORS]
    if unknown:
        raise ConfigError(f"{where}: unknown check {unknown[0]!r} (known: {', '.join(DETECTORS)})")
    return frozenset(values)


def _typed(value: Any, kind: type, key: str, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{where}: {key} must be {kind.__name__}, not {type(value).__name__}")
    return value


def _check_settings(kind: str, table: Any, where: str) -> tuple[bool, Severity | None, Any]:
    if kind not in DETECTORS:
        raise ConfigError(f"{where}: unknown check [checks.{kind}] (known: {', '.join(DETECTORS)})")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: checks.{kind} must be a table")
    params_type = DETECTORS[kind].Params
    fields = {f.name: f.type for f in dataclasses.fields(params_type)}
    values, enabled, severity = {}, True, None
    for key, value in table.items():
        name = f"checks.{kind}.{key}"
        if key == "enabled":
            enabled = _typed(value, bool, name, where)
        elif key == "severity":
            severity = parse_severity(_typed(value, str, name, where), f"{where}: {name}")
        elif key in fields:
            default = getattr(params_type(), key)
            values[key] = _typed(value, type(default), name, where)
        else:
            known = ", ".join(["enabled", "severity", *fields])
            raise ConfigError(f"{where}: unknown key {name} (known: {known})")
    return enabled, severity, params_type(**values)


def parse_severity(value: str, where: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise ConfigError(f"{where}: severity must be fail, warn or info, not {value!r}") from None


def from_mapping(data: Mapping[str, Any], where: str) -> Config:
    """A Config from a parsed TOML table; every unknown key or wrong type is named."""
    settings: dict[str, Any] = {"source": where}
    for key, value in data.items():
        if key not in TOP_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(TOP_KEYS)})")
        settings[key] = _typed(value, TOP_KEYS[key], key, where)
    if "fail_on" in settings:
        settings["fail_on"] = parse_severity(settings["fail_on"], f"{where}: fail_on")
    for key in ("select", "ignore"):
        if key in settings:
            settings[key] = _kinds(settings[key], f"{where}: {key}")
    if "rules" in settings:
        settings["rules"] = parse_rules(settings["rules"], where)
    if "reference" in settings:
        settings["reference"] = parse_reference(settings["reference"], where)
        base = Path(where).parent if where and Path(where).is_file() else Path.cwd()
        run = Path(settings["reference"].run)
        path = run if run.is_absolute() else base / run
        settings["reference"] = dataclasses.replace(settings["reference"], run=str(path))
    checks = settings.pop("checks", {})
    params = {kind: m.Params() for kind, m in DETECTORS.items()}
    severity, disabled = {}, set()
    for kind, table in checks.items():
        enabled, level, params[kind] = _check_settings(kind, table, where)
        if level is not None:
            severity[kind] = level
        if not enabled:
            disabled.add(kind)
    settings["ignore"] = frozenset(settings.get("ignore", frozenset()) | disabled)
    return Config(severity=severity, params=params, **settings)


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


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Severity):
        return '"' + str(getattr(value, "value", value)).replace('"', '\\"') + '"'
    if isinstance(value, list | tuple | frozenset):
        return "[" + ", ".join(_toml(v) for v in sorted(value, key=str)) + "]"
    return repr(value)


def dump(config: Config) -> str:
    """The configuration as TOML, every check with all its parameters: what `config --show`
    prints, and a starting point for a losstest.toml."""
    lines = [f"# from {config.source or 'the defaults'}"]
    for key in ("metric", "val_metric", "step", "vocab_size", "num_classes", "target"):
        value = getattr(config, key)
        lines.append(
            f"{key} = {_toml(value)}"
            if value is not None
            else f"# {key} = (found automatically)"
            if key in ("metric", "val_metric", "step")
            else f"# {key} = (not set)"
        )
    lines.append(f"fail_on = {_toml(config.fail_on)}")
    if config.select is not None:
        lines.append(f"select = {_toml(config.select)}")
    lines.append(f"ignore = {_toml(config.ignore)}")
    for kind, module in DETECTORS.items():
        lines += ["", f"[checks.{kind}]", f"enabled = {_toml(config.enabled(kind))}",
                  f"severity = {_toml(config.severity_of(kind, module.SEVERITY))}"]  # fmt: skip
        lines += [f"{f.name} = {_toml(getattr(config.params[kind], f.name))}"
                  for f in dataclasses.fields(config.params[kind])]  # fmt: skip
    for rule in config.rules:
        lines += ["", "[[rules]]", f"name = {_toml(rule.name)}"]
        lines += [f"{f.name} = {_toml(getattr(rule, f.name))}" for f in dataclasses.fields(rule)
                  if f.name != "name" and getattr(rule, f.name) is not None]  # fmt: skip
    if config.reference is not None:
        lines += ["", "[reference]"]
        lines += [f"{f.name} = {_toml(getattr(config.reference, f.name))}"
                  for f in dataclasses.fields(config.reference)
                  if getattr(config.reference, f.name) is not None]  # fmt: skip
    return "\n".join(lines)
