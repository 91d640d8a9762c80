"""Sphinx configuration for kapproto's documentation."""

from __future__ import annotations

import sys
from importlib.metadata import version as _version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "kapproto"
author = "kapproto developers"
copyright = "2026, kapproto developers"
release = _version("kapproto")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.doctest",
    "kapproto_docs",
]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]

html_theme = "furo"
html_title = "kapproto"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True

# No intersphinx: the build must not need the network.

nitpicky = True
nitpick_ignore_regex = [
    # third-party types with no reachable inventory offline
    (
        r"py:.*",
        r"(pint|cattrs|attrs|hypothesis|datetime|decimal|zoneinfo|enum|typing|collections)\..*",
    ),
    (r"py:.*", r"(Quantity|UnitRegistry|Converter|SearchStrategy|Decimal|ZoneInfo|T|C|E|K|V|Self)"),
    (r"py:.*", r".*\.(T|C|E|K|V|Key)$"),
    (
        r"py:.*",
        r"(builtins\.)?(str|int|float|bool|bytes|object|type|dict|list|tuple|set|frozenset|None|NoneType|Exception|ValueError|LookupError|TypeError|KeyError)",
    ),
    (r"py:class", r"(_io\..*|argparse\..*|pathlib\..*|os\.PathLike.*)"),
    (r"py:.*", r"(optional|callable|iterable|mapping|sequence)"),
    # type variables of generic kapproto classes and functions
    (r"py:.*", r"kapproto\.[a-z_.]+\.(T|C)"),
    # the repr of a quantity field's kind, Annotated[Quantity, <Kind PRESSURE (mm[Hg])>],
    # split into fragments by the type-hint parser
    (r"py:class", r"<Kind [A-Z_]+|>|Hg|%|(mm|ug|mg|g|kg|mL|L|min|h)(/(kg|mL|min|h))*|/min"),
    # private helper classes named in type hints (kapproto._catalog._Shelf)
    (r"py:class", r"kapproto(\.\w+)*\._[A-Z]\w*"),
]
