"""The house rules of the code, checked: data flows readers → frame → checks → reporters, the
core imports none of them, the command layer stays thin, and kinds are known in one place."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from losstest.checks import CHECKS
from losstest.readers import ORDER
from losstest.reporters import FORMATS

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


@pytest.mark.parametrize("name", FORMATS)
def test_the_format_table_says_what_each_reporter_module_renders(name):
    entry = FORMATS[name]
    module = importlib.import_module(f"losstest.reporters.{entry.module}")
    assert name == module.NAME
    assert hasattr(module, "render") == entry.report
    assert hasattr(module, "render_comparison") == entry.comparison


def test_every_reporter_module_is_in_the_format_table():
    named = {p.stem for p in _modules("reporters") if "\nNAME = " in p.read_text()}
    assert named == {entry.module for entry in FORMATS.values()}


@pytest.mark.parametrize("name", ORDER)
def test_the_reader_table_names_each_reader_module(name):
    assert name == importlib.import_module(f"losstest.readers.{ORDER[name]}").NAME


def test_every_reader_module_is_in_the_reader_table():
    named = {p.stem for p in _modules("readers") if "\nNAME = " in p.read_text()}
    assert named == set(ORDER.values())


# Imported by `losstest analyze` of a small JSON Lines log printed as text: none of these
# (each costs 0.05-2 s of start-up, bench/SPEED.md); they load where they are used. The
# readers sniffed after JSON Lines are never imported.
NOT_AT_START = ("matplotlib", "scipy", "pydantic", "duckdb", "numba", "tensorboard", "fsspec",
                "dask", "losstest.reporters.html", "losstest.reporters.plot",
                "losstest.readers.text", "losstest.readers.csv", "losstest.readers.tidy_csv",
                "losstest.readers.wandb_csv")  # fmt: skip


def test_analyze_of_a_small_log_imports_only_what_it_needs(tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text("".join(f'{{"step": {i}, "loss": {3 / (i + 1)}}}\n' for i in range(50)))
    code = (
        "import atexit, runpy, sys; "
        "atexit.register(lambda: print(*sorted(sys.modules), file=sys.stderr)); "
        f"sys.argv = ['losstest', 'analyze', {str(log)!r}]; "
        "runpy.run_module('losstest', run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    loaded = set(done.stderr.split())
    assert "losstest.reporters.text" in loaded
    heavy = sorted(m for m in loaded if m.startswith(NOT_AT_START))
    assert not heavy, f"analyze imported {heavy[:10]}"
