"""Tests of the public namespace: __all__, lazy loading, type hints, the installed package."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import subprocess
import sys
import typing
from importlib import metadata, resources
from pathlib import Path

import attrs
import pytest

import kapproto

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_MODULES = sorted(kapproto._SUBMODULES)


def _public_classes() -> list[tuple[str, type]]:
    """Every class named in kapproto.__all__ or in a public submodule's __all__."""
    found: dict[str, type] = {}
    for name in kapproto.__all__:
        value = getattr(kapproto, name)
        if inspect.isclass(value):
            found[f"kapproto.{name}"] = value
    for sub in PUBLIC_MODULES:
        module = importlib.import_module(f"kapproto.{sub}")
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.isclass(value):
                found.setdefault(f"kapproto.{sub}.{name}", value)
    return sorted(found.items())


def test_all_matches_names() -> None:
    """__all__ lists exactly the names of _NAMES, each once."""
    assert sorted(kapproto._NAMES) == sorted(kapproto.__all__)
    assert len(set(kapproto.__all__)) == len(kapproto.__all__)


@pytest.mark.parametrize("name", sorted(kapproto._NAMES))
def test_name_resolves(name: str) -> None:
    """Every public name resolves to the object of the module _NAMES says it lives in."""
    module = importlib.import_module(kapproto._NAMES[name])
    assert getattr(module, name) is getattr(kapproto, name)


def test_type_checking_imports_match_names() -> None:
    """The TYPE_CHECKING block imports every public name from the module _NAMES gives."""
    tree = ast.parse(Path(kapproto.__file__).read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    imported = {
        alias.asname or alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert kapproto._NAMES == imported


def test_dir_lists_public_names() -> None:
    """dir(kapproto) offers every public name, submodule and __version__."""
    listed = set(dir(kapproto))
    assert set(kapproto.__all__) <= listed
    assert set(kapproto._SUBMODULES) <= listed
    assert "__version__" in listed


def test_unknown_attribute() -> None:
    """An unknown attribute is an AttributeError naming it."""
    with pytest.raises(AttributeError, match="module 'kapproto' has no attribute 'Sesion'"):
        kapproto.Sesion  # noqa: B018


@pytest.mark.parametrize("sub", PUBLIC_MODULES)
def test_public_submodule(sub: str) -> None:
    """Each public submodule loads on attribute access and every name in its __all__ resolves."""
    module = getattr(kapproto, sub)
    assert importlib.import_module(f"kapproto.{sub}") is module
    for name in getattr(module, "__all__", ()):
        assert hasattr(module, name), f"kapproto.{sub}.{name}"


@pytest.mark.parametrize(("name", "cls"), _public_classes(), ids=lambda v: str(v))
def test_type_hints_resolve(name: str, cls: type) -> None:
    """typing.get_type_hints resolves for every public class (cattrs needs it)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    if attrs.has(cls):
        assert {a.name for a in attrs.fields(cls)} <= set(hints), name


def _run(code: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_is_cheap() -> None:
    """Importing kapproto loads neither pint nor cattrs; __version__ works and loads neither."""
    out = _run(
        "import sys, json, kapproto; v = kapproto.__version__; "
        "print(json.dumps([v, [m for m in ('pint', 'cattrs') if m in sys.modules]]))"
    )
    assert [metadata.version("kapproto"), []] == json.loads(out)


def test_package_data_found() -> None:
    """importlib.resources finds py.typed and data/units.txt in the package."""
    files = resources.files("kapproto")
    assert files.joinpath("py.typed").is_file()
    assert "millimeter_Hg" in files.joinpath("data", "units.txt").read_text(encoding="utf-8")


@pytest.mark.skipif(
    os.environ.get("KAPPROTO_TEST_INSTALLED") != "1",
    reason="only when testing the installed wheel (KAPPROTO_TEST_INSTALLED=1)",
)
def test_tests_run_against_installed_package() -> None:
    """With KAPPROTO_TEST_INSTALLED=1 kapproto is imported from the installed wheel, not src/."""
    location = Path(kapproto.__file__).resolve()
    assert not location.is_relative_to(ROOT / "src"), location
    assert not Path(str(resources.files("kapproto"))).resolve().is_relative_to(ROOT / "src")


@pytest.mark.parametrize("name", kapproto.__all__)
def test_every_public_name_has_an_example(name: str) -> None:
    """Every public name's docstring shows a doctest example (run by test_docstrings.py)."""
    assert ">>>" in (inspect.getdoc(getattr(kapproto, name)) or ""), name
