"""Run the doctest examples in every kapproto module's docstrings."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import kapproto

# __main__ runs the command line when imported.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(kapproto.__path__, "kapproto.")
    if not info.name.endswith(".__main__")
)


def _run(name: str) -> tuple[int, list[str]]:
    """Run the doctests of module ``name``; return how many examples ran and the failure reports."""
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    failures: list[str] = []
    attempted = 0
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        attempted += runner.run(test, out=failures.append).attempted
    return attempted, failures


def test_modules_found() -> None:
    """The walk finds the package's modules, subpackages included, and runs their examples."""
    assert {"kapproto.units", "kapproto.serialization", "kapproto.cli._list"} <= set(MODULES)
    for name in ("kapproto.units", "kapproto.exceptions", "kapproto.serialization"):
        assert _run(name)[0] > 0, name


@pytest.mark.parametrize("name", ["kapproto", *MODULES])
def test_doctests(name: str) -> None:
    """Every example in the module's docstrings runs and prints what it shows."""
    _, failures = _run(name)
    if failures:
        pytest.fail("".join(failures), pytrace=False)
