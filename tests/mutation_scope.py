"""A pytest plugin for `make mutate`: each mutant runs only the tests written for its module.

mutmut runs a mutant against every test that reached the mutated function, and every command
test reaches every check: a surviving check mutant then cost ~280 tests (~30 s on 2 cores). A
mutant of a module listed here runs only that module's own test files, so the score says what
those tests catch, and a survivor costs seconds. Outside mutmut (no mutant under test) this
plugin does nothing."""

from __future__ import annotations

import os
import re

import pytest

# module -> the test files that state what it must do (a folder: every file below it)
OWN_TESTS = {
    "losstest.checks": ("tests/checks/", "tests/test_detectors.py"),
    "losstest.checks.shape": ("tests/checks/", "tests/test_detectors.py"),
    "losstest.curves": ("tests/test_curves.py", "tests/checks/", "tests/test_detectors.py"),
    "losstest.engine": ("tests/test_engine.py",),
    "losstest.exit_codes": ("tests/test_cli.py",),
}
CHECK = re.compile(r"losstest\.checks\.(\w+)$")
READERS = ("tests/test_readers_tabular.py", "tests/test_readers_formats.py",
           "tests/test_decoders.py", "tests/test_readers_text_dialects.py",
           "tests/test_reader_oracles.py")  # fmt: skip


def mutated_module(mutant: str) -> str | None:
    """`losstest.checks.spike.x_detect__mutmut_3` (or `...xǁClassǁmethod__mutmut_3`) ->
    `losstest.checks.spike`; None when no mutant is under test."""
    match = re.match(r"([\w.]+?)\.x(?:_|ǁ)\S*__mutmut_\d+$", mutant)
    return match and match.group(1)


def own_tests(module: str) -> tuple[str, ...] | None:
    """The test files of a module, or None where every test that reaches it may judge it."""
    if module in OWN_TESTS:
        return OWN_TESTS[module]
    check = CHECK.match(module)
    if check:
        return (f"tests/checks/test_{check.group(1)}.py",)
    if module.startswith("losstest.readers."):
        return READERS
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    module = mutated_module(os.environ.get("MUTANT_UNDER_TEST", ""))
    files = module and own_tests(module)
    if not files:
        return
    config.hook.pytest_deselected(items=[i for i in items if not i.nodeid.startswith(files)])
    items[:] = [item for item in items if item.nodeid.startswith(files)]
