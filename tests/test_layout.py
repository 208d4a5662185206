"""The house rules of the code, checked: data flows readers → frame → checks → reporters, the
core imports none of them, the command layer stays thin, and kinds are known in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from losstest.checks import CHECKS

PACKAGE = Path(__file__).parents[1] / "losstest"
CORE = ("curves", "report", "signal", "formatting", "config", "errors", "frame", "exit_codes",
        "metric_names")  # fmt: skip


def _imports(path: Path) -> set[str]:
    """The losstest modules a file imports, as dotted names below the package."""
    here = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - node.level]
            module = ".".join((*base, *(node.module.split(".") if node.module else ())))
            found |= {module} if node.module else {f"{module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("losstest"):
            found.add(node.module)
    return {m.removeprefix("losstest.") for m in found if m.startswith("losstest")}


def _modules(folder: str = "") -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py") if folder else PACKAGE.glob("*.py"))


@pytest.mark.parametrize("name", CORE)
def test_the_core_imports_only_the_core(name):
    imported = _imports(PACKAGE / f"{name}.py")
    assert imported <= set(CORE), f"{name}.py imports {sorted(imported - set(CORE))}"


@pytest.mark.parametrize("path", _modules("checks"), ids=lambda p: p.name)
def test_checks_import_the_core_and_each_other_only(path):
    imported = {m for m in _imports(path) if not m.startswith("checks")}
    assert imported <= set(CORE), f"{path.name} imports {sorted(imported - set(CORE))}"


@pytest.mark.parametrize("path", _modules("reporters"), ids=lambda p: p.name)
def test_reporters_import_nothing_from_checks_or_readers(path):
    bad = {m for m in _imports(path) if m.split(".")[0] in ("checks", "readers", "engine", "api")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _modules("readers"), ids=lambda p: p.name)
def test_readers_import_nothing_from_checks_or_reporters(path):
    bad = {m for m in _imports(path) if m.split(".")[0] in ("checks", "reporters", "engine")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_no_losstest_import_hides_inside_a_function_outside_the_command_layer():
    for path in _modules("."):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for inner in ast.walk(node):
                    assert not (isinstance(inner, ast.ImportFrom) and inner.level), (
                        f"{path.name}:{inner.lineno} imports inside {node.name}()"
                    )


@pytest.mark.parametrize("path", _modules("cli"), ids=lambda p: p.name)
def test_command_functions_are_short(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= 40, f"{path.name}: {node.name}() is {length} lines"


def test_kinds_are_named_only_by_their_checks():
    """A kind's name as a string literal outside checks/ means another module knows about it."""
    kinds = set(CHECKS)
    for path in _modules("."):
        if "checks" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in kinds:
                raise AssertionError(
                    f"{path.relative_to(PACKAGE)}:{node.lineno} names {node.value!r}"
                )
